// A small x86-64 instruction encoder for the differential test generator.
// Produces machine code bytes plus Intel-syntax text (used only for messages).
// Fixups (rel8/rel32 branch targets, RIP-relative displacements) are resolved by layout().

import { GPR_NAMES } from '../../assembly/shared/regs.js';

export type Size = 8 | 16 | 32 | 64;

export const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, RBP = 5, RSI = 6, RDI = 7;
export const R8 = 8, R9 = 9, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;

/** The 64-bit register names by encoding, as the CPU and `exec` name them. */
export const REG_NAMES: readonly string[] = GPR_NAMES;
const N32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const N16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const N8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const N8H = ['ah', 'ch', 'dh', 'bh'];

export function regName(n: number, size: Size, high = false): string {
  if (high) return N8H[n];
  if (size === 64) return REG_NAMES[n];
  if (n >= 8) return `r${n}${size === 32 ? 'd' : size === 16 ? 'w' : 'b'}`;
  return size === 32 ? N32[n] : size === 16 ? N16[n] : N8[n];
}

export interface Reg { kind: 'reg'; n: number; size: Size; high?: boolean }
export interface Label { id: number; off?: number }
export interface Mem {
  kind: 'mem';
  size: Size | 128 | 0; // access size in bits (0 = none, for LEA/NOP)
  base?: number;
  index?: number;
  scale?: 1 | 2 | 4 | 8;
  disp: number;
  rip?: Label; // RIP-relative to a label (+disp)
  ripAbs?: number; // RIP-relative to an absolute code offset (+disp)
  addr32?: boolean; // 0x67 prefix
}
export type RM = Reg | Mem;

export const reg = (n: number, size: Size, high = false): Reg => ({ kind: 'reg', n, size, high });

export class EncodeError extends Error {}

export interface Fixup {
  kind: 'rel8' | 'rel32' | 'rip32';
  pos: number; // byte offset in the instruction
  label?: Label;
  abs?: number; // absolute code offset instead of a label
  add: number; // added to the target
  clamp?: number; // rip32 data access of this many bytes: keep the target inside the code
}

export interface Insn {
  bytes: number[];
  text: string;
  fixups: Fixup[];
  off?: number; // assigned by layout
  tag?: string; // generator category of the group this instruction belongs to
  undef?: number; // rflags bits undefined before this instruction (generator bookkeeping)
}

export function memText(m: Mem): string {
  const sz = m.size === 8 ? 'byte' : m.size === 16 ? 'word' : m.size === 32 ? 'dword' : m.size === 64 ? 'qword'
    : m.size === 128 ? 'xmmword' : '';
  const parts: string[] = [];
  const w: Size = m.addr32 ? 32 : 64;
  if (m.rip) parts.push(`${m.addr32 ? 'eip' : 'rip'}+L${m.rip.id}`);
  else if (m.ripAbs !== undefined) parts.push(`${m.addr32 ? 'eip' : 'rip'}->@${m.ripAbs}`);
  if (m.base !== undefined) parts.push(regName(m.base, w));
  if (m.index !== undefined) parts.push(`${regName(m.index, w)}*${m.scale ?? 1}`);
  let s = parts.join('+');
  if (m.disp || !parts.length) s += (m.disp < 0 ? '-' : parts.length ? '+' : '') + '0x' + Math.abs(m.disp).toString(16);
  return `${sz ? sz + ' ptr ' : ''}[${s}]`;
}

export function opText(o: RM): string {
  return o.kind === 'reg' ? regName(o.n, o.size, o.high) : memText(o);
}

function le(v: bigint, bytes: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(bytes * 8, v);
  for (let i = 0; i < bytes; i++) { out.push(Number(x & 0xffn)); x >>= 8n; }
  return out;
}
export const imm = (v: number | bigint, bytes: number) => le(BigInt(v), bytes);

export interface EncOpts {
  prefixes?: number[]; // legacy prefixes (LOCK, REP, segment, 66 is added from opsize)
  opsize?: Size; // operand size: 16 adds 0x66, 64 adds REX.W
  noOpsizePrefix?: boolean;
  op: number[]; // opcode bytes (after REX)
  reg?: number | Reg; // ModRM.reg: a register, or an opcode extension digit (number)
  rm?: RM; // ModRM.rm
  opreg?: Reg; // register encoded in the low 3 bits of the last opcode byte
  immBytes?: number[];
  relFixup?: { kind: 'rel8' | 'rel32'; label?: Label; abs?: number };
  forceRex?: boolean;
  text: string;
}

/** Encode one instruction. Throws EncodeError for impossible operand combinations. */
export function encode(o: EncOpts): Insn {
  const pre: number[] = [];
  if (o.opsize === 16 && !o.noOpsizePrefix) pre.push(0x66);
  pre.push(...(o.prefixes ?? []));
  let rexW = o.opsize === 64, rexR = false, rexX = false, rexB = false;
  let needRex = !!o.forceRex, forbidRex = false;
  const noteByteReg = (r: Reg) => {
    if (r.size !== 8) return;
    if (r.high) forbidRex = true;
    else if (r.n >= 4 && r.n <= 7) needRex = true;
  };
  let modrm: number[] = [];
  let fix: Fixup | undefined;
  if (o.rm !== undefined || o.reg !== undefined) {
    let regField = 0;
    if (typeof o.reg === 'number') regField = o.reg;
    else if (o.reg) {
      noteByteReg(o.reg);
      regField = o.reg.high ? o.reg.n + 4 : o.reg.n;
    }
    if (regField >= 8) { rexR = true; regField &= 7; }
    const rm = o.rm!;
    if (rm.kind === 'reg') {
      noteByteReg(rm);
      let n = rm.high ? rm.n + 4 : rm.n;
      if (n >= 8) { rexB = true; n &= 7; }
      modrm = [0xc0 | regField << 3 | n];
    } else {
      if (rm.addr32) pre.push(0x67);
      if (rm.rip || rm.ripAbs !== undefined) {
        if (rm.base !== undefined || rm.index !== undefined) throw new EncodeError('rip with base/index');
        modrm = [0x05 | regField << 3, 0, 0, 0, 0];
        fix = { kind: 'rip32', pos: 1, label: rm.rip, abs: rm.ripAbs, add: rm.disp,
          clamp: rm.size ? rm.size / 8 : undefined };
      } else {
        const d = rm.disp;
        if (d < -0x80000000 || d > 0x7fffffff) throw new EncodeError('disp out of range');
        const scaleBits = ({ 1: 0, 2: 1, 4: 2, 8: 3 } as const)[rm.scale ?? 1];
        if (rm.index === RSP) throw new EncodeError('rsp as index');
        if (rm.index !== undefined && rm.index >= 8) rexX = true;
        if (rm.base === undefined) {
          // [index*scale + disp32] or [disp32] via SIB with no base
          const idx = rm.index === undefined ? 4 : rm.index & 7;
          modrm = [0x04 | regField << 3, scaleBits << 6 | idx << 3 | 5, ...le(BigInt(d), 4)];
        } else {
          const b = rm.base;
          if (b >= 8) rexB = true;
          let mod: number, dispBytes: number[];
          if (d === 0 && (b & 7) !== 5) { mod = 0; dispBytes = []; }
          else if (d >= -128 && d <= 127) { mod = 1; dispBytes = le(BigInt(d), 1); }
          else { mod = 2; dispBytes = le(BigInt(d), 4); }
          if (rm.index !== undefined || (b & 7) === 4) {
            const idx = rm.index === undefined ? 4 : rm.index & 7;
            modrm = [mod << 6 | regField << 3 | 4, scaleBits << 6 | idx << 3 | (b & 7), ...dispBytes];
          } else {
            modrm = [mod << 6 | regField << 3 | (b & 7), ...dispBytes];
          }
        }
      }
    }
  }
  const op = [...o.op];
  if (o.opreg) {
    noteByteReg(o.opreg);
    let n = o.opreg.high ? o.opreg.n + 4 : o.opreg.n;
    if (n >= 8) { rexB = true; n &= 7; }
    op[op.length - 1] |= n;
  }
  if (rexW || rexR || rexX || rexB) needRex = true;
  if (needRex && forbidRex) throw new EncodeError('high byte register with REX');
  const rex = needRex ? [0x40 | (rexW ? 8 : 0) | (rexR ? 4 : 0) | (rexX ? 2 : 0) | (rexB ? 1 : 0)] : [];
  const head = [...pre, ...rex, ...op];
  const bytes = [...head, ...modrm];
  const fixups: Fixup[] = [];
  if (fix) { fix.pos += head.length; fixups.push(fix); }
  bytes.push(...(o.immBytes ?? []));
  if (o.relFixup) {
    const n = o.relFixup.kind === 'rel8' ? 1 : 4;
    fixups.push({ kind: o.relFixup.kind, pos: bytes.length, label: o.relFixup.label, abs: o.relFixup.abs, add: 0 });
    for (let i = 0; i < n; i++) bytes.push(0);
  }
  if (bytes.length > 15) throw new EncodeError('instruction longer than 15 bytes');
  return { bytes, text: o.text, fixups };
}

/** Raw bytes (no operands), e.g. fault opcodes. */
export function raw(bytes: number[], text: string): Insn {
  return { bytes: [...bytes], text, fixups: [] };
}

/** Assign offsets, resolve fixups; returns the code bytes. Items are instructions or labels. */
export function layout(items: (Insn | Label)[]): { code: Uint8Array; insns: Insn[] } {
  let off = 0;
  const insns: Insn[] = [];
  for (const it of items) {
    if ('bytes' in it) { it.off = off; off += it.bytes.length; insns.push(it); }
    else it.off = off;
  }
  const code = new Uint8Array(off);
  for (const ins of insns) {
    const b = ins.bytes.slice();
    const end = ins.off! + b.length;
    for (const f of ins.fixups) {
      let target = (f.label ? f.label.off! : f.abs!) + f.add;
      if (f.label && f.label.off === undefined) throw new Error(`label L${f.label.id} not placed`);
      if (f.clamp !== undefined) target = Math.max(0, Math.min(target, end - f.clamp)); // only bytes up to this instruction's end
      const rel = target - end;
      if (f.kind === 'rel8') {
        if (rel < -128 || rel > 127) throw new Error(`rel8 out of range (${rel}) in ${ins.text}`);
        b[f.pos] = rel & 0xff;
      } else {
        const v = le(BigInt(rel), 4);
        for (let i = 0; i < 4; i++) b[f.pos + i] = v[i];
      }
    }
    code.set(b, ins.off!);
  }
  return { code, insns };
}
