// Deterministic generator of user-mode x86-64 instruction sequences for differential testing
// against the host CPU. Case `index` of seed `seed` is always the same bytes and registers.
//
// Each case comes with a side record (meta): the categories it exercises, and for every
// instruction boundary the rflags bits that the SDM leaves undefined at that point (masked
// in the comparison at the stop RIP). Flag readers are never allowed to consume an undefined
// flag: the generator first emits an instruction that defines it.

import {
  encode, raw, layout, reg, regName, opText, memText, imm, EncodeError,
  type Insn, type Label, type Mem, type Reg, type RM, type Size,
  RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15, REG_NAMES,
} from './x86.js';

import type { FpMask } from './compare.js';

export const CODE_BASE = 0x10000000n;
export const DATA_BASE = 0x20000000n;
export const WIN = 0x10000;

import {
  X86_EFLAGS_CF as CF, X86_EFLAGS_PF as PF, X86_EFLAGS_AF as AF, X86_EFLAGS_ZF as ZF, X86_EFLAGS_SF as SF,
  X86_EFLAGS_DF as DF, X86_EFLAGS_OF as OF,
} from '../../assembly/shared/x86-defns.js';
export { CF, PF, AF, ZF, SF, DF, OF };
export const ALL6 = CF | PF | AF | ZF | SF | OF;
/** rflags bits compared: the six status flags and DF. */
export const CMP_MASK = ALL6 | DF;

export interface Features {
  popcnt: boolean; lzcnt: boolean; bmi1: boolean; movbe: boolean; cx8: boolean; cx16: boolean;
  /** Vendor-specific behaviours the generator must avoid (see vendorQuirks in the test). */
  vendor?: string;
}
export const ALL_FEATURES: Features = { popcnt: true, lzcnt: true, bmi1: true, movbe: true, cx8: true, cx16: true };

export interface ExecCase {
  code: string;
  regs: Record<string, string>;
  rflags: string;
  max_insns: number;
  /** SIMD/FPU input (src/exec.ts): XMM0-15 as 128-bit hex, MXCSR, FCW; omitted = the defaults. */
  xmm?: Record<string, string>; mxcsr?: string; fcw?: string;
}

export interface CaseMeta {
  id: string; // "seed:index"
  focus: string; // the category the case concentrates on
  tags: string[]; // all group categories present (fault categories included)
  /** [code offset, undefined-rflags mask before the instruction at that offset]; last = end */
  boundaries: [number, number][];
  /** registers whose final value is architecturally undefined (compared only if the run did not end) */
  regMask: string[];
  /** instruction listing: offset, tag, text */
  listing: { off: number; len: number; tag: string; text: string }[];
  /** SIMD/FPU result bits the SDM leaves undefined for this case (compare.ts FpMask), with the citation at the generator. */
  fpMask?: FpMask;
}

export interface GenCase { exec: ExecCase; meta: CaseMeta }

// ---------------------------------------------------------------- PRNG (sfc32)

export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number, stream: number) {
    // splitmix32 to spread (seed, stream) into the state
    let s = (seed ^ Math.imul(stream + 0x9e3779b9, 0x85ebca6b)) >>> 0;
    const sm = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = sm(); this.b = sm(); this.c = sm(); this.d = sm() ^ stream;
    for (let i = 0; i < 12; i++) this.u32();
  }
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  int(n: number): number { return Math.floor((this.u32() / 4294967296) * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  weighted<T>(items: readonly [T, number][]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let r = (this.u32() / 4294967296) * total;
    for (const [v, w] of items) { if ((r -= w) < 0) return v; }
    return items[items.length - 1][0];
  }
}

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => v & M64;
const hex = (v: bigint | number) => '0x' + u64(BigInt(v)).toString(16);

const INTERESTING: bigint[] = [
  0n, 1n, 2n, 3n, 7n, 8n, 0x0fn, 0x10n, 0x1fn, 0x20n, 0x3fn, 0x40n, 0x7fn, 0x80n, 0xffn, 0x100n,
  0x7fffn, 0x8000n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n,
  0x7fffffffffffffffn, 0x8000000000000000n, M64, M64 - 1n, 0xffffffff80000000n, 0xffffffffffff8000n,
  0xffffffffffffff80n, 0x00000000ffff0000n, 0x5555555555555555n, 0xaaaaaaaaaaaaaaaan, 0x0123456789abcdefn,
];

function rand64(r: Rng): bigint {
  const k = r.int(100);
  if (k < 30) return r.pick(INTERESTING);
  if (k < 45) return BigInt(r.int(256));
  if (k < 55) return u64(-BigInt(r.range(1, 256)));
  if (k < 65) return BigInt(r.u32());
  if (k < 72) { // a few set bits
    let v = 0n;
    for (let i = r.range(1, 3); i > 0; i--) v |= 1n << BigInt(r.int(64));
    return v;
  }
  return r.u64();
}

/**
 * A data address (absolute) outside the stack zone [0x5800, 0xa800) of the window, where RSP
 * lives (0x6000..0xa000 at the start): writes through data pointers never clobber return
 * addresses or saved registers. Offsets +-0xa00 from it stay inside the window and out of the zone.
 */
function dataAddr(r: Rng): number {
  const off = r.chance(0.5) ? r.range(0x1800, 0x4c00) : r.range(0xb000, 0xe400);
  return Number(DATA_BASE) + off;
}

/** sign-extend the low `bits` of v to 64 bits */
function sx(v: bigint, bits: number): bigint { return u64(BigInt.asIntN(bits, v)); }

const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const CC_FLAGS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];

interface FlagFx { R?: number; D?: number; U?: number }

interface Pending { label: Label; remaining: number; undef: number }

// ---------------------------------------------------------------- generation context

class Ctx {
  items: (Insn | Label)[] = [];
  undef = 0;
  pending: Pending[] = [];
  tags = new Set<string>();
  regMask: string[] = [];
  tag = '';
  labels = 0;
  start: Label;
  usesRip = false;
  inBody = false; // inside a call/loop/frame body: only simple groups
  noRcx = false; // inside a loop counted by RCX
  terminated = false;
  exclude: string[] = [];
  W: number[]; // registers the generated code may write
  B: number; // reserved pointer into the data window
  B2: number | undefined;
  X: number; // reserved small index
  regs: bigint[] = [];
  constructor(public r: Rng, public feat: Features) {
    this.start = this.label();
    this.items.push(this.start);
    const pool = [RBX, RBP, R8, R9, R10, R11, R12, R13, R14, R15];
    const shuffled = pool.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    this.B = shuffled[0];
    this.X = shuffled[1];
    this.B2 = r.chance(0.5) ? shuffled[2] : undefined;
    this.W = [];
    for (let n = 0; n < 16; n++) {
      if (n === RSP || n === this.B || n === this.X || n === this.B2) continue;
      this.W.push(n);
    }
    for (let n = 0; n < 16; n++) this.regs[n] = rand64(r);
    this.regs[this.B] = BigInt(dataAddr(r));
    if (this.B2 !== undefined) this.regs[this.B2] = BigInt(dataAddr(r));
    this.regs[this.X] = BigInt(r.int(0x41));
    this.regs[RSP] = DATA_BASE + BigInt(0x6000 + r.int(0x4000) * 1) & ~(r.chance(0.85) ? 7n : 0n);
  }
  label(): Label { return { id: this.labels++ }; }

  emit(ins: Insn, fx: FlagFx = {}) {
    const R = fx.R ?? 0, D = fx.D ?? 0, U = fx.U ?? 0;
    if (R & this.undef) throw new Error(`generator bug: ${ins.text} reads undefined flags ${R & this.undef}`);
    ins.tag = this.tag;
    ins.undef = this.undef;
    this.tags.add(this.tag);
    this.items.push(ins);
    this.undef = (this.undef & ~(D | U)) | U;
    return ins;
  }
  place(l: Label) { this.items.push(l); }

  /** Make sure the flags in `mask` are defined, emitting a definer if needed. */
  define(mask: number) {
    const need = mask & this.undef;
    if (!need) return;
    const save = this.tag;
    this.tag = 'fixup';
    if (need === CF && this.r.chance(0.7)) {
      const stc = this.r.chance(0.5);
      this.emit(raw([stc ? 0xf9 : 0xf8], stc ? 'stc' : 'clc'), { D: CF });
    } else {
      // cmp/sub/add reg, reg|imm (CMP never writes; sub/add on a writable register)
      const size = this.size();
      const a = this.anyReg(size);
      if (this.r.chance(0.5)) {
        const b = this.anyReg(size);
        this.tryEmit(() => encode({ opsize: size, op: [size === 8 ? 0x38 : 0x39], reg: b, rm: a, text: `cmp ${opText(a)}, ${opText(b)}` }), { D: ALL6 },
          () => encode({ op: [0x48, 0x39], reg: RAX, rm: reg(RCX, 64), text: 'cmp rcx, rax' }));
      } else {
        const v = rand64(this.r);
        const ib = size === 8 ? imm(v, 1) : imm(v, 1);
        this.tryEmit(() => encode({ opsize: size, op: [size === 8 ? 0x80 : 0x83], reg: 7, rm: a, immBytes: ib, text: `cmp ${opText(a)}, ${hex(sx(v, 8))}` }), { D: ALL6 },
          () => encode({ op: [0x48, 0x39], reg: RAX, rm: reg(RCX, 64), text: 'cmp rcx, rax' }));
      }
    }
    this.tag = save;
  }
  private tryEmit(f: () => Insn, fx: FlagFx, fallback: () => Insn) {
    let ins: Insn;
    try { ins = f(); } catch (e) { if (!(e instanceof EncodeError)) throw e; ins = fallback(); }
    this.emit(ins, fx);
  }

  size(): Size { return this.r.weighted<Size>([[8, 3], [16, 2], [32, 3], [64, 4]]); }
  sizeNo8(): Size { return this.r.weighted<Size>([[16, 2], [32, 3], [64, 4]]); }
  /** a register the code may write */
  dst(size: Size, exclude: number[] = []): Reg {
    const cand = this.W.filter((n) => !exclude.includes(n) && !(this.noRcx && n === RCX));
    const n = this.r.pick(cand);
    return reg(n, size, size === 8 && n < 4 && this.r.chance(0.3));
  }
  /** any register, read only */
  anyReg(size: Size): Reg {
    const n = this.r.int(16);
    return reg(n, size, size === 8 && n < 4 && this.r.chance(0.3));
  }
  /** A memory operand inside the data window (or read-only code for reads). */
  mem(size: Mem['size'], write: boolean, opts: { noRip?: boolean; noStack?: boolean } = {}): Mem {
    const r = this.r;
    const k = r.int(100);
    const a32 = r.chance(0.04);
    if (!write && !opts.noRip && k < 8 && size !== 128) {
      this.usesRip = true;
      return { kind: 'mem', size, rip: this.start, disp: r.int(48), scale: 1, addr32: a32 };
    }
    if (!opts.noStack && !(write && this.inBody) && k < 16) {
      const m: Mem = { kind: 'mem', size, base: RSP, disp: r.range(-0x100, 0x100), addr32: a32 };
      if (r.chance(0.3)) { m.index = this.X; m.scale = r.pick([1, 2, 4, 8] as const); }
      return m;
    }
    if (k < 22) {
      if (r.chance(0.5)) return { kind: 'mem', size, disp: dataAddr(r), addr32: a32 };
      return { kind: 'mem', size, index: this.X, scale: r.pick([1, 2, 4, 8] as const), disp: dataAddr(r), addr32: a32 };
    }
    const base = this.B2 !== undefined && r.chance(0.4) ? this.B2 : this.B;
    const m: Mem = { kind: 'mem', size, base, disp: 0, addr32: a32 };
    if (r.chance(0.45)) { m.index = this.X; m.scale = r.pick([1, 2, 4, 8] as const); }
    const d = r.int(10);
    m.disp = d < 3 ? 0 : d < 7 ? r.range(-128, 127) : r.range(-0x800, 0x800);
    return m;
  }
  rm(size: Size, write: boolean, pMem = 0.4): RM {
    return this.r.chance(pMem) ? this.mem(size, write) : write ? this.dst(size) : this.anyReg(size);
  }
  immv(size: Size): bigint { return rand64(this.r) & ((1n << BigInt(size)) - 1n); }
  segPrefix(): number[] { return this.r.chance(0.03) ? [this.r.pick([0x2e, 0x3e, 0x26, 0x36])] : []; }
}

function immBytesFor(size: Size, v: bigint): number[] {
  return imm(v, size === 8 ? 1 : size === 16 ? 2 : 4);
}

// ---------------------------------------------------------------- group generators

type Gen = (c: Ctx) => void;

const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
function aluFx(op: number): FlagFx {
  if (op === 1 || op === 4 || op === 6) return { D: ALL6 & ~AF, U: AF };
  if (op === 2 || op === 3) return { R: CF, D: ALL6 };
  return { D: ALL6 };
}

const genAlu: Gen = (c) => {
  const r = c.r;
  const op = r.int(8);
  const fx = aluFx(op);
  c.define(fx.R ?? 0);
  const size = c.size();
  const name = ALU_NAMES[op];
  const w = op !== 7;
  const form = r.int(5);
  const lockable = (m: RM) => w && m.kind === 'mem' && r.chance(0.3) ? [0xf0] : [];
  if (form === 0) { // op r/m, r
    const d = c.rm(size, w);
    const s = c.anyReg(size);
    const lock = lockable(d);
    c.emit(encode({ prefixes: [...lock, ...c.segPrefix()], opsize: size, op: [op * 8 + (size === 8 ? 0 : 1)], reg: s, rm: d,
      text: `${lock.length ? 'lock ' : ''}${name} ${opText(d)}, ${opText(s)}` }), fx);
  } else if (form === 1) { // op r, r/m
    const d = w ? c.dst(size) : c.anyReg(size);
    const s = c.rm(size, false);
    c.emit(encode({ prefixes: c.segPrefix(), opsize: size, op: [op * 8 + (size === 8 ? 2 : 3)], reg: d, rm: s, text: `${name} ${opText(d)}, ${opText(s)}` }), fx);
  } else if (form === 2) { // op acc, imm
    const v = c.immv(size === 64 ? 32 : size);
    const acc = regName(RAX, size);
    c.emit(encode({ opsize: size, op: [op * 8 + (size === 8 ? 4 : 5)], immBytes: immBytesFor(size, v),
      text: `${name} ${acc}, ${hex(size === 64 ? sx(v, 32) : v)}` }), fx);
  } else if (form === 3) { // 80/81 /op
    const d = c.rm(size, w);
    const v = c.immv(size === 64 ? 32 : size);
    const lock = lockable(d);
    c.emit(encode({ prefixes: lock, opsize: size, op: [size === 8 ? 0x80 : 0x81], reg: op, rm: d, immBytes: immBytesFor(size, v),
      text: `${lock.length ? 'lock ' : ''}${name} ${opText(d)}, ${hex(size === 64 ? sx(v, 32) : v)}` }), fx);
  } else { // 83 /op ib (sign-extended)
    const sz = size === 8 ? 32 : size;
    const d = c.rm(sz, w);
    const v = c.immv(8);
    const lock = lockable(d);
    c.emit(encode({ prefixes: lock, opsize: sz, op: [0x83], reg: op, rm: d, immBytes: imm(v, 1),
      text: `${lock.length ? 'lock ' : ''}${name} ${opText(d)}, ${hex(sx(v, 8))}` }), fx);
  }
};

const genTest: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const fx = { D: ALL6 & ~AF, U: AF };
  const form = r.int(3);
  if (form === 0) {
    const d = c.rm(size, false);
    const s = c.anyReg(size);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0x84 : 0x85], reg: s, rm: d, text: `test ${opText(d)}, ${opText(s)}` }), fx);
  } else if (form === 1) {
    const v = c.immv(size === 64 ? 32 : size);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xa8 : 0xa9], immBytes: immBytesFor(size, v), text: `test ${regName(RAX, size)}, ${hex(v)}` }), fx);
  } else {
    const d = c.rm(size, false);
    const v = c.immv(size === 64 ? 32 : size);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: 0, rm: d, immBytes: immBytesFor(size, v), text: `test ${opText(d)}, ${hex(v)}` }), fx);
  }
};

const genUnary: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const kind = r.int(4); // inc dec not neg
  const d = c.rm(size, true);
  const lock = d.kind === 'mem' && r.chance(0.3) ? [0xf0] : [];
  const names = ['inc', 'dec', 'not', 'neg'];
  const fx: FlagFx = kind < 2 ? { D: ALL6 & ~CF } : kind === 2 ? {} : { D: ALL6 };
  const op = kind < 2 ? (size === 8 ? 0xfe : 0xff) : (size === 8 ? 0xf6 : 0xf7);
  const digit = kind < 2 ? kind : kind;
  c.emit(encode({ prefixes: lock, opsize: size, op: [op], reg: digit, rm: d, text: `${lock.length ? 'lock ' : ''}${names[kind]} ${opText(d)}` }), fx);
};

const genMov: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const form = r.int(7);
  if (form === 0) { // mov r/m, r
    const d = c.rm(size, true, 0.5);
    const s = c.anyReg(size);
    c.emit(encode({ prefixes: c.segPrefix(), opsize: size, op: [size === 8 ? 0x88 : 0x89], reg: s, rm: d, text: `mov ${opText(d)}, ${opText(s)}` }));
  } else if (form === 1) { // mov r, r/m
    const d = c.dst(size);
    const s = c.rm(size, false, 0.6);
    c.emit(encode({ prefixes: c.segPrefix(), opsize: size, op: [size === 8 ? 0x8a : 0x8b], reg: d, rm: s, text: `mov ${opText(d)}, ${opText(s)}` }));
  } else if (form === 2) { // mov r/m, imm
    const d = c.rm(size, true);
    const v = c.immv(size === 64 ? 32 : size);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xc6 : 0xc7], reg: 0, rm: d, immBytes: immBytesFor(size, v), text: `mov ${opText(d)}, ${hex(v)}` }));
  } else if (form === 3) { // mov r, imm (B0/B8), imm64 with REX.W
    const d = c.dst(size);
    const v = c.immv(size);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xb0 : 0xb8], opreg: d, immBytes: imm(v, size / 8), text: `mov ${opText(d)}, ${hex(v)}` }));
  } else if (form === 4) { // moffs
    const store = r.chance(0.5);
    const addr = BigInt(dataAddr(r));
    const a32 = r.chance(0.2);
    const op = (store ? 0xa2 : 0xa0) + (size === 8 ? 0 : 1);
    c.emit(encode({ prefixes: a32 ? [0x67] : [], opsize: size, op: [op], immBytes: imm(addr, a32 ? 4 : 8),
      text: store ? `movabs [${hex(addr)}], ${regName(RAX, size)}` : `movabs ${regName(RAX, size)}, [${hex(addr)}]` }));
  } else { // register to register with all sizes (high byte regs common)
    const d = c.dst(size);
    const s = c.anyReg(size);
    const alt = r.chance(0.5);
    c.emit(encode({ opsize: size, op: [(alt ? 0x8a : 0x88) + (size === 8 ? 0 : 1)], reg: alt ? d : s, rm: alt ? s : d, text: `mov ${opText(d)}, ${opText(s)}` }));
  }
};

const genMovx: Gen = (c) => {
  const r = c.r;
  const k = r.int(6);
  if (k < 4) {
    const signed = k >= 2;
    const from: Size = k % 2 === 0 ? 8 : 16;
    const to: Size = from === 8 ? r.pick([16, 32, 64] as const) : r.pick([32, 64] as const);
    const d = c.dst(to);
    const s = c.rm(from, false, 0.4);
    const op = [0x0f, (signed ? 0xbe : 0xb6) + (from === 8 ? 0 : 1)];
    c.emit(encode({ opsize: to, op, reg: d, rm: s, text: `mov${signed ? 'sx' : 'zx'} ${opText(d)}, ${opText(s)}` }));
  } else {
    const w = r.chance(0.85);
    if (!w) c.tag = 'movsxd32';
    const d = c.dst(w ? 64 : 32);
    const s = c.rm(32, false, 0.4);
    c.emit(encode({ opsize: w ? 64 : 32, op: [0x63], reg: d, rm: s, text: `movsxd ${opText(d)}, ${opText(s)}` }));
  }
};

const genLea: Gen = (c) => {
  const r = c.r;
  const size = c.sizeNo8();
  const d = c.dst(size);
  const m: Mem = { kind: 'mem', size: 0, disp: 0 };
  const k = r.int(10);
  if (k === 0) { m.rip = c.start; m.disp = r.range(-64, 64); }
  else {
    if (k !== 1) m.base = r.int(16);
    if (r.chance(0.6)) { let i = r.int(16); if (i === RSP) i = RBP; m.index = i; m.scale = r.pick([1, 2, 4, 8] as const); }
    const dk = r.int(4);
    m.disp = dk === 0 ? 0 : dk === 1 ? r.range(-128, 127) : Number(BigInt.asIntN(32, BigInt(r.u32())));
  }
  m.addr32 = r.chance(0.1);
  c.emit(encode({ opsize: size, op: [0x8d], reg: d, rm: m, text: `lea ${opText(d)}, ${memText(m)}` }));
};

const genXchg: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const k = r.int(4);
  if (k < 2) {
    const a = c.rm(size, true, 0.4);
    const b = c.dst(size);
    const lock = a.kind === 'mem' && r.chance(0.3) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: size, op: [size === 8 ? 0x86 : 0x87], reg: b, rm: a, text: `${lock.length ? 'lock ' : ''}xchg ${opText(a)}, ${opText(b)}` }));
  } else if (k === 2) { // 90+r
    const sz = size === 8 ? 32 : size;
    const b = c.dst(sz);
    c.emit(encode({ opsize: sz, op: [0x90], opreg: b, text: `xchg ${regName(RAX, sz)}, ${opText(b)}` }));
  } else { // xchg eax, eax (87 C0) zero-extends; 48 90 is a NOP
    if (r.chance(0.5)) c.emit(raw([0x87, 0xc0], 'xchg eax, eax'));
    else c.emit(raw([0x48, 0x90], 'xchg rax, rax'));
  }
};

const genBswap: Gen = (c) => {
  const size = c.r.chance(0.5) ? 32 : 64;
  const d = c.dst(size);
  c.emit(encode({ opsize: size, op: [0x0f, 0xc8], opreg: d, text: `bswap ${opText(d)}` }));
};

const SHIFT_NAMES = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'sal', 'sar'];
function shiftFx(op: number, size: Size, count: number): FlagFx {
  const mc = count & (size === 64 ? 63 : 31);
  if (mc === 0) return op === 2 || op === 3 ? { R: CF } : {};
  const ofDef = mc === 1 ? OF : 0, ofUnd = mc === 1 ? 0 : OF;
  if (op <= 1) return { D: CF | ofDef, U: ofUnd };
  if (op <= 3) return { R: CF, D: CF | ofDef, U: ofUnd };
  const cfUndef = (op === 4 || op === 5 || op === 6) && mc >= size; // SHL/SHR count >= size (8/16-bit)
  return { D: (SF | ZF | PF | (cfUndef ? 0 : CF) | ofDef), U: AF | ofUnd | (cfUndef ? CF : 0) };
}
function shiftCount(r: Rng): number {
  return r.weighted<number>([[0, 1], [1, 4], [2, 2], [r.int(256), 3], [7, 1], [8, 1], [9, 1], [15, 1], [16, 1], [17, 1],
    [31, 1], [32, 1], [33, 1], [63, 1], [64, 1], [65, 1], [255, 1]]);
}
/** Set CL (via mov ecx / mov cl) to a known count. */
function setCl(c: Ctx, count: number) {
  if (c.r.chance(0.5)) c.emit(raw([0xb9, ...imm(count | (c.r.int(256) << 8), 4)], `mov ecx, ${hex(count)}`));
  else c.emit(raw([0xb1, count & 0xff], `mov cl, ${hex(count)}`));
}

const genShift: Gen = (c) => {
  const r = c.r;
  let op = r.int(8);
  if (op === 6 && !r.chance(0.15)) op = 4;
  const size = c.size();
  const d = c.rm(size, true, 0.35);
  const form = c.noRcx ? r.int(2) : r.int(3); // 0: by 1, 1: imm8, 2: CL
  const count = form === 0 ? 1 : shiftCount(r);
  const fx = shiftFx(op, size, count);
  if (form === 2) setCl(c, count);
  c.define(fx.R ?? 0);
  const base = size === 8 ? 0 : 1;
  if (op === 6) c.tag = 'shift_sal6';
  if (form === 0) c.emit(encode({ opsize: size, op: [0xd0 + base], reg: op, rm: d, text: `${SHIFT_NAMES[op]} ${opText(d)}, 1` }), fx);
  else if (form === 1) c.emit(encode({ opsize: size, op: [0xc0 + base], reg: op, rm: d, immBytes: [count & 0xff], text: `${SHIFT_NAMES[op]} ${opText(d)}, ${count & 0xff}` }), fx);
  else c.emit(encode({ opsize: size, op: [0xd2 + base], reg: op, rm: d, text: `${SHIFT_NAMES[op]} ${opText(d)}, cl` }), fx);
};

const genShld: Gen = (c) => {
  const r = c.r;
  const right = r.chance(0.5);
  const size = c.sizeNo8();
  const d = c.rm(size, true, 0.35);
  const s = c.anyReg(size);
  let count = shiftCount(r);
  const mc = () => count & (size === 64 ? 63 : 31);
  while (size === 16 && mc() > 16) count = r.int(17); // result undefined for count > 16
  const useCl = !c.noRcx && r.chance(0.5);
  let fx: FlagFx = {};
  if (mc() !== 0) fx = { D: CF | SF | ZF | PF | (mc() === 1 ? OF : 0), U: AF | (mc() === 1 ? 0 : OF) };
  if (useCl) setCl(c, count);
  const name = right ? 'shrd' : 'shld';
  if (useCl) c.emit(encode({ opsize: size, op: [0x0f, right ? 0xad : 0xa5], reg: s, rm: d, text: `${name} ${opText(d)}, ${opText(s)}, cl` }), fx);
  else c.emit(encode({ opsize: size, op: [0x0f, right ? 0xac : 0xa4], reg: s, rm: d, immBytes: [count & 0xff], text: `${name} ${opText(d)}, ${opText(s)}, ${count & 0xff}` }), fx);
};

const MULFX: FlagFx = { D: CF | OF, U: SF | ZF | AF | PF };
const genMul: Gen = (c) => {
  const r = c.r;
  const k = r.int(5);
  if (k <= 1) { // mul / imul one operand
    const size = c.size();
    const s = c.rm(size, false);
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: k === 0 ? 4 : 5, rm: s, text: `${k === 0 ? 'mul' : 'imul'} ${opText(s)}` }), MULFX);
  } else if (k === 2) {
    const size = c.sizeNo8();
    const d = c.dst(size);
    const s = c.rm(size, false);
    c.emit(encode({ opsize: size, op: [0x0f, 0xaf], reg: d, rm: s, text: `imul ${opText(d)}, ${opText(s)}` }), MULFX);
  } else {
    const size = c.sizeNo8();
    const d = c.dst(size);
    const s = c.rm(size, false);
    if (k === 3) {
      const v = c.immv(size === 16 ? 16 : 32);
      c.emit(encode({ opsize: size, op: [0x69], reg: d, rm: s, immBytes: immBytesFor(size, v), text: `imul ${opText(d)}, ${opText(s)}, ${hex(v)}` }), MULFX);
    } else {
      const v = c.immv(8);
      c.emit(encode({ opsize: size, op: [0x6b], reg: d, rm: s, immBytes: [Number(v)], text: `imul ${opText(d)}, ${opText(s)}, ${hex(sx(v, 8))}` }), MULFX);
    }
  }
};

/** sign/zero-extend the dividend into the high half (AH / DX / EDX / RDX) */
function extendDividend(c: Ctx, size: Size, signed: boolean) {
  if (signed) {
    if (size === 8) c.emit(raw([0x66, 0x98], 'cbw'));
    else if (size === 16) c.emit(raw([0x66, 0x99], 'cwd'));
    else if (size === 32) c.emit(raw([0x99], 'cdq'));
    else c.emit(raw([0x48, 0x99], 'cqo'));
  } else {
    if (size === 8) c.emit(raw([0x0f, 0xb6, 0xc0], 'movzx eax, al'));
    else c.emit(raw([0xba, 0, 0, 0, 0], 'mov edx, 0'));
  }
}

const genDiv: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const signed = r.chance(0.5);
  const careful = r.chance(0.8);
  let s: RM;
  if (careful) {
    extendDividend(c, size, signed);
    let v = c.immv(size) || 1n;
    if (signed && BigInt.asIntN(size, v) === -1n) v = 3n;
    if (r.chance(0.5)) {
      const d = c.dst(size, [RAX, RDX]);
      s = d;
      c.emit(encode({ opsize: size, op: [size === 8 ? 0xb0 : 0xb8], opreg: d, immBytes: imm(v, size / 8), text: `mov ${opText(d)}, ${hex(v)}` }));
    } else {
      const m = c.mem(size, true, { noRip: true });
      s = m;
      const iv = size === 64 ? sx(v, 32) || 1n : v;
      c.emit(encode({ opsize: size, op: [size === 8 ? 0xc6 : 0xc7], reg: 0, rm: m, immBytes: immBytesFor(size, iv), text: `mov ${opText(m)}, ${hex(iv)}` }));
    }
  } else {
    s = c.rm(size, false);
  }
  c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: signed ? 7 : 6, rm: s, text: `${signed ? 'idiv' : 'div'} ${opText(s)}` }), { U: ALL6 });
};

const genConv: Gen = (c) => {
  const forms: [number[], string][] = [[[0x66, 0x98], 'cbw'], [[0x98], 'cwde'], [[0x48, 0x98], 'cdqe'],
    [[0x66, 0x99], 'cwd'], [[0x99], 'cdq'], [[0x48, 0x99], 'cqo']];
  const [b, t] = c.r.pick(forms);
  c.emit(raw(b, t));
};

const BT_NAMES = ['bt', 'bts', 'btr', 'btc'];
const BTFX: FlagFx = { D: CF, U: OF | SF | AF | PF };
const genBt: Gen = (c) => {
  const r = c.r;
  const op = r.int(4);
  const size = c.sizeNo8();
  const form = r.int(4);
  const w = op !== 0;
  if (form === 0) { // register destination, register offset
    const d = w ? c.dst(size) : c.anyReg(size);
    const s = c.anyReg(size);
    c.emit(encode({ opsize: size, op: [0x0f, 0xa3 + op * 8], reg: s, rm: d, text: `${BT_NAMES[op]} ${opText(d)}, ${opText(s)}` }), BTFX);
  } else if (form === 1) { // memory destination with a register bit offset (can reach outside the operand)
    const offReg = c.dst(size);
    const off = BigInt(r.range(-600, 1200));
    c.emit(encode({ opsize: size === 16 ? 32 : size, op: [0xb8], opreg: reg(offReg.n, size === 16 ? 32 : size), immBytes: imm(off, size === 64 ? 8 : 4),
      text: `mov ${regName(offReg.n, size === 16 ? 32 : size)}, ${hex(off)}` }));
    const m = c.mem(size, w, { noRip: true, noStack: true });
    const lock = w && r.chance(0.3) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: size, op: [0x0f, 0xa3 + op * 8], reg: offReg, rm: m, text: `${lock.length ? 'lock ' : ''}${BT_NAMES[op]} ${opText(m)}, ${opText(offReg)}` }), BTFX);
  } else { // immediate bit offset, register or memory
    const d = w ? c.rm(size, true) : c.rm(size, false);
    const b = r.chance(0.7) ? r.int(size) : r.int(256);
    const lock = w && d.kind === 'mem' && r.chance(0.3) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: size, op: [0x0f, 0xba], reg: 4 + op, rm: d, immBytes: [b], text: `${lock.length ? 'lock ' : ''}${BT_NAMES[op]} ${opText(d)}, ${b}` }), BTFX);
  }
};

/** make the operand non-zero with BTS (it is written) */
function forceNonZero(c: Ctx, o: RM, size: Size) {
  const b = c.r.int(size);
  c.emit(encode({ opsize: size, op: [0x0f, 0xba], reg: 5, rm: o, immBytes: [b], text: `bts ${opText(o)}, ${b}` }), BTFX);
}

const genBsf: Gen = (c) => {
  const r = c.r;
  const rev = r.chance(0.5);
  const size = c.sizeNo8();
  const d = c.dst(size);
  let s: RM;
  if (r.chance(0.4)) s = c.mem(size, true, { noRip: true });
  else s = reg(r.pick(c.W.filter((n) => n !== d.n && !(c.noRcx && n === RCX))), size);
  forceNonZero(c, s, size);
  c.emit(encode({ opsize: size, op: [0x0f, rev ? 0xbd : 0xbc], reg: d, rm: s, text: `${rev ? 'bsr' : 'bsf'} ${opText(d)}, ${opText(s)}` }), { D: ZF, U: CF | OF | SF | AF | PF });
};

/** BSF/BSR with a zero source: ZF=1, destination architecturally undefined (masked). Terminal. */
const genBsfZero: Gen = (c) => {
  const r = c.r;
  const rev = r.chance(0.5);
  const size = c.sizeNo8();
  const d = c.dst(size);
  const s = reg(r.pick(c.W.filter((n) => n !== d.n)), size);
  c.emit(encode({ opsize: 32, op: [0x31], reg: reg(s.n, 32), rm: reg(s.n, 32), text: `xor ${regName(s.n, 32)}, ${regName(s.n, 32)}` }), { D: ALL6 & ~AF, U: AF });
  c.emit(encode({ opsize: size, op: [0x0f, rev ? 0xbd : 0xbc], reg: d, rm: s, text: `${rev ? 'bsr' : 'bsf'} ${opText(d)}, ${opText(s)}` }), { D: ZF, U: CF | OF | SF | AF | PF });
  c.regMask.push(REG_NAMES[d.n]);
  c.terminated = true;
};

const genCount: Gen = (c) => {
  const r = c.r;
  const kinds: [number, string, FlagFx][] = [];
  if (c.feat.popcnt) kinds.push([0xb8, 'popcnt', { D: ALL6 }]);
  if (c.feat.lzcnt) kinds.push([0xbd, 'lzcnt', { D: CF | ZF, U: OF | SF | AF | PF }]);
  if (c.feat.bmi1) kinds.push([0xbc, 'tzcnt', { D: CF | ZF, U: OF | SF | AF | PF }]);
  if (!kinds.length) { c.tag = 'alu'; return genAlu(c); }
  const [op, name, fx] = r.pick(kinds);
  const size = c.sizeNo8();
  const d = c.dst(size);
  const s = c.rm(size, false);
  c.emit(encode({ prefixes: [0xf3], opsize: size, op: [0x0f, op], reg: d, rm: s, text: `${name} ${opText(d)}, ${opText(s)}` }), fx);
};

const genSetcc: Gen = (c) => {
  const cc = c.r.int(16);
  c.define(CC_FLAGS[cc]);
  const d = c.rm(8, true, 0.3);
  c.emit(encode({ op: [0x0f, 0x90 + cc], reg: 0, rm: d, text: `set${CC_NAMES[cc]} ${opText(d)}` }), { R: CC_FLAGS[cc] });
};

const genCmov: Gen = (c) => {
  const cc = c.r.int(16);
  c.define(CC_FLAGS[cc]);
  const size = c.sizeNo8();
  const d = c.dst(size);
  const s = c.rm(size, false, 0.35);
  c.emit(encode({ opsize: size, op: [0x0f, 0x40 + cc], reg: d, rm: s, text: `cmov${CC_NAMES[cc]} ${opText(d)}, ${opText(s)}` }), { R: CC_FLAGS[cc] });
};

/** A forward branch to the start of a group `skip` groups ahead. */
function forward(c: Ctx, undef: number): Label {
  const l = c.label();
  c.pending.push({ label: l, remaining: c.r.weighted([[0, 2], [1, 3], [2, 2], [3, 1]]), undef });
  return l;
}

const genJcc: Gen = (c) => {
  const r = c.r;
  const k = r.int(10);
  if (k < 7) {
    const cc = r.int(16);
    c.define(CC_FLAGS[cc]);
    const l = forward(c, c.undef);
    const near = r.chance(0.3);
    c.emit(encode({ op: near ? [0x0f, 0x80 + cc] : [0x70 + cc], relFixup: { kind: near ? 'rel32' : 'rel8', label: l }, text: `j${CC_NAMES[cc]} L${l.id}` }), { R: CC_FLAGS[cc] });
  } else if (k < 9) {
    const l = forward(c, c.undef);
    const near = r.chance(0.3);
    c.emit(encode({ op: [near ? 0xe9 : 0xeb], relFixup: { kind: near ? 'rel32' : 'rel8', label: l }, text: `jmp L${l.id}` }));
  } else { // jrcxz / jecxz
    const l = forward(c, c.undef);
    const a32 = r.chance(0.3);
    c.emit(encode({ prefixes: a32 ? [0x67] : [], op: [0xe3], relFixup: { kind: 'rel8', label: l }, text: `${a32 ? 'jecxz' : 'jrcxz'} L${l.id}` }));
  }
};

const genJmpInd: Gen = (c) => {
  const r = c.r;
  const t = c.dst(64);
  const l = forward(c, c.undef);
  c.emit(encode({ opsize: 64, op: [0x8d], reg: t, rm: { kind: 'mem', size: 0, rip: l, disp: 0 }, text: `lea ${opText(t)}, [rip+L${l.id}]` }));
  if (r.chance(0.5)) {
    c.emit(encode({ op: [0xff], reg: 4, rm: reg(t.n, 64), text: `jmp ${opText(t)}` }));
  } else {
    const m = c.mem(64, true, { noRip: true });
    c.emit(encode({ opsize: 64, op: [0x89], reg: t, rm: m, text: `mov ${opText(m)}, ${opText(t)}` }));
    c.emit(encode({ op: [0xff], reg: 4, rm: m, text: `jmp ${opText(m)}` }));
  }
};

/** A body of simple groups (no control flow, no stack) inside a call/loop/frame block. */
function body(c: Ctx, n: number) {
  const saveBody = c.inBody, saveTag = c.tag;
  c.inBody = true;
  for (let i = 0; i < n; i++) {
    const [g, tag] = pickSimple(c);
    c.tag = tag;
    runGroup(c, g);
  }
  c.inBody = saveBody;
  c.tag = saveTag;
}

const genCall: Gen = (c) => {
  const r = c.r;
  const F = c.label(), Over = c.label();
  const retImm = r.chance(0.2) ? r.pick([0, 8, 16, 24]) : -1;
  if (retImm > 0) c.emit(encode({ opsize: 64, op: [0x83], reg: 5, rm: reg(RSP, 64), immBytes: [retImm], text: `sub rsp, ${retImm}` }), { D: ALL6 });
  const k = r.int(4);
  if (k < 2) {
    c.emit(encode({ op: [0xe8], relFixup: { kind: 'rel32', label: F }, text: `call L${F.id}` }));
  } else {
    const t = c.dst(64);
    c.emit(encode({ opsize: 64, op: [0x8d], reg: t, rm: { kind: 'mem', size: 0, rip: F, disp: 0 }, text: `lea ${opText(t)}, [rip+L${F.id}]` }));
    if (k === 2) c.emit(encode({ op: [0xff], reg: 2, rm: reg(t.n, 64), text: `call ${opText(t)}` }));
    else {
      const m = c.mem(64, true, { noRip: true, noStack: true });
      c.emit(encode({ opsize: 64, op: [0x89], reg: t, rm: m, text: `mov ${opText(m)}, ${opText(t)}` }));
      c.emit(encode({ op: [0xff], reg: 2, rm: m, text: `call ${opText(m)}` }));
    }
  }
  const jo = c.emit(encode({ op: [0xeb], relFixup: { kind: 'rel8', label: Over }, text: `jmp L${Over.id}` }));
  c.place(F);
  body(c, r.int(4));
  if (retImm >= 0) c.emit(raw([0xc2, ...imm(retImm, 2)], `ret ${retImm}`));
  else c.emit(raw([0xc3], 'ret'));
  jo.undef = c.undef;
  c.place(Over);
};

const genLoop: Gen = (c) => {
  const r = c.r;
  if (!c.W.includes(RCX)) { c.tag = 'alu'; return genAlu(c); }
  const n = r.range(1, 4);
  c.emit(raw([0xb9, ...imm(n, 4)], `mov ecx, ${n}`));
  const L = c.label();
  c.place(L);
  const entry = c.undef;
  const saveNoRcx = c.noRcx;
  c.noRcx = true;
  // the head defines all status flags so every iteration starts from a defined state
  const a = c.anyReg(64), b = c.anyReg(64);
  const head = c.emit(encode({ opsize: 64, op: [0x39], reg: b, rm: a, text: `cmp ${opText(a)}, ${opText(b)}` }), { D: ALL6 });
  const first = c.items.length;
  body(c, r.range(1, 3));
  c.noRcx = saveNoRcx;
  let bodyLen = head.bytes.length;
  for (let i = first; i < c.items.length; i++) { const it = c.items[i]; if ('bytes' in it) bodyLen += it.bytes.length; }
  const k = r.int(3);
  if (k === 0 && bodyLen < 110) {
    c.emit(encode({ op: [0xe2], relFixup: { kind: 'rel8', label: L }, text: `loop L${L.id}` }));
  } else {
    c.emit(raw([0xff, 0xc9], 'dec ecx'), { D: ALL6 & ~CF });
    c.emit(encode({ op: [0x0f, 0x85], relFixup: { kind: 'rel32', label: L }, text: `jnz L${L.id}` }), { R: ZF });
  }
  head.undef = (head.undef ?? 0) | entry | c.undef;
};

const genFrame: Gen = (c) => frame(c, false);
const genEnter: Gen = (c) => frame(c, true);
function frame(c: Ctx, useEnter: boolean) {
  const r = c.r;
  // only with RBP free: a reserved pointer in RBP would change (and writes through it could hit the saved RBP)
  if (!c.W.includes(RBP)) { c.tag = 'stack'; return genStack(c); }
  const saveW = c.W;
  const n = r.pick([0, 8, 16, 0x20, 0x48]);
  if (!useEnter) {
    c.emit(raw([0x55], 'push rbp'));
    c.emit(raw([0x48, 0x89, 0xe5], 'mov rbp, rsp'));
    c.emit(raw([0x48, 0x83, 0xec, n], `sub rsp, ${n}`), { D: ALL6 });
  } else {
    // ENTER n, level: level > 0 copies frame pointers from [rbp-8*i]: needs rbp in the window
    const level = r.chance(0.6) ? 0 : r.range(1, 3);
    if (level > 0) c.emit(raw([0x48, 0x8d, 0x6c, 0x24, 0xc0], 'lea rbp, [rsp-0x40]'));
    c.emit(raw([0xc8, ...imm(n, 2), level], `enter ${n}, ${level}`));
  }
  c.W = c.W.filter((x) => x !== RBP);
  body(c, r.int(3));
  c.W = saveW;
  c.emit(raw([0xc9], 'leave'));
}

const genStack: Gen = (c) => {
  const r = c.r;
  const k = r.int(9);
  if (k === 0) {
    const s = c.anyReg(64);
    c.emit(encode({ op: [0x50], opreg: reg(s.n, 64), text: `push ${opText(s)}` }));
  } else if (k === 1) {
    const d = c.dst(64);
    c.emit(encode({ op: [0x58], opreg: reg(d.n, 64), text: `pop ${opText(d)}` }));
  } else if (k === 2) {
    const v = c.immv(r.chance(0.5) ? 8 : 32);
    if (v < 256n && r.chance(0.5)) c.emit(raw([0x6a, Number(v) & 0xff], `push ${hex(sx(v, 8))}`));
    else c.emit(raw([0x68, ...imm(v, 4)], `push ${hex(sx(v, 32))}`));
  } else if (k === 3) {
    const m = c.mem(64, false);
    c.emit(encode({ op: [0xff], reg: 6, rm: m, text: `push ${opText(m)}` }));
  } else if (k === 4) {
    const m = c.mem(64, true);
    c.emit(encode({ op: [0x8f], reg: 0, rm: m, text: `pop ${opText(m)}` }));
  } else if (k === 5) { // push then pop into another register
    const s = c.anyReg(64), d = c.dst(64);
    c.emit(encode({ op: [0x50], opreg: reg(s.n, 64), text: `push ${opText(s)}` }));
    c.emit(encode({ op: [0x58], opreg: reg(d.n, 64), text: `pop ${opText(d)}` }));
  } else if (k === 6) { // 16-bit push/pop
    c.tag = 'stack16';
    const s = c.anyReg(16), d = c.dst(16);
    c.emit(encode({ opsize: 16, op: [0x50], opreg: s, text: `push ${opText(s)}` }));
    if (r.chance(0.5)) c.emit(encode({ opsize: 16, op: [0x58], opreg: d, text: `pop ${opText(d)}` }));
    else { c.define(ALL6); c.tag = 'stack16'; c.emit(raw([0x66, 0x9c], 'pushfw'), { R: ALL6 }); }
  } else if (k === 7) { // push rsp / pop rsp-relative
    c.emit(raw([0x54], 'push rsp'));
    if (r.chance(0.5)) c.emit(raw([0x8f, 0x04, 0x24], 'pop qword ptr [rsp]'));
  } else {
    const n = r.pick([8, 16, 0x18, 0x40]);
    const add = r.chance(0.5);
    c.emit(raw([0x48, 0x83, add ? 0xc4 : 0xec, n], `${add ? 'add' : 'sub'} rsp, ${n}`), { D: ALL6 });
  }
};

const genPushf: Gen = (c) => {
  const r = c.r;
  if (r.chance(0.5)) {
    c.define(ALL6);
    c.emit(raw([0x9c], 'pushf'), { R: ALL6 });
    if (r.chance(0.7)) {
      const d = c.dst(64);
      c.emit(encode({ op: [0x58], opreg: reg(d.n, 64), text: `pop ${opText(d)}` }));
    }
  } else {
    c.tag = 'popf';
    // never TF (8), AC (18), NT (14), VIP/VIF; IF/IOPL bits are ignored at CPL 3
    let v = BigInt(r.u32() & ALL6) | 2n;
    if (r.chance(0.3)) v |= BigInt(DF);
    if (r.chance(0.3)) v |= BigInt(r.u32() & 0x3200);
    if (r.chance(0.05)) { v |= 1n << 21n; c.tag = 'popf_id'; }
    c.emit(raw([0x68, ...imm(v, 4)], `push ${hex(v)}`));
    c.emit(raw([0x9d], 'popf'), { D: ALL6 });
  }
};

const genFlagOps: Gen = (c) => {
  const r = c.r;
  const k = r.int(7);
  if (k === 0) { c.define(SF | ZF | AF | PF | CF); c.emit(raw([0x9f], 'lahf'), { R: SF | ZF | AF | PF | CF }); }
  else if (k === 1) {
    if (r.chance(0.6)) { const v = r.int(256); c.emit(raw([0xb4, v], `mov ah, ${hex(v)}`)); }
    c.emit(raw([0x9e], 'sahf'), { D: SF | ZF | AF | PF | CF });
  } else if (k === 2) c.emit(raw([0xf8], 'clc'), { D: CF });
  else if (k === 3) c.emit(raw([0xf9], 'stc'), { D: CF });
  else if (k === 4) { c.define(CF); c.emit(raw([0xf5], 'cmc'), { R: CF, D: CF }); }
  else if (k === 5) c.emit(raw([0xfc], 'cld'));
  else c.emit(raw([0xfd], 'std'));
};

const STR_OPS: [string, number, boolean][] = [['movs', 0xa4, false], ['stos', 0xaa, false], ['lods', 0xac, false], ['cmps', 0xa6, true], ['scas', 0xae, true]];
const genString: Gen = (c) => {
  const r = c.r;
  const [name, op, cmp] = r.pick(STR_OPS);
  const size = c.size();
  const rep = r.weighted<number>([[0, 2], [0xf3, 4], [0xf2, cmp ? 3 : 0]]);
  const a32 = r.chance(0.08);
  if (a32) c.tag = 'string_a32';
  if (r.chance(0.4)) c.emit(r.chance(0.5) ? raw([0xfc], 'cld') : raw([0xfd], 'std'));
  const src = dataAddr(r);
  const dstA = r.chance(0.15) ? src + r.range(-9, 9) : dataAddr(r);
  c.emit(raw([0xbe, ...imm(src, 4)], `mov esi, ${hex(src)}`));
  c.emit(raw([0xbf, ...imm(dstA, 4)], `mov edi, ${hex(dstA)}`));
  const count = rep ? r.weighted<number>([[0, 1], [1, 2], [r.range(2, 16), 4], [r.range(17, 64), 2]]) : 0;
  if (rep) {
    const hi = a32 && r.chance(0.5) ? 0x100000000n : 0n; // upper half ignored with 0x67
    if (hi) c.emit(raw([0x48, 0xb9, ...imm(hi | BigInt(count), 8)], `mov rcx, ${hex(hi | BigInt(count))}`));
    else c.emit(raw([0xb9, ...imm(count, 4)], `mov ecx, ${count}`));
  }
  if (cmp && r.chance(0.4)) { // make the compared data equal for a while
    c.emit(raw([0xb0, r.int(256)], 'mov al, imm'));
  }
  const pre = [...(a32 ? [0x67] : []), ...(rep ? [rep] : [])];
  const fx: FlagFx = cmp && (!rep || count > 0) ? { D: ALL6 } : {};
  const sfx = size === 8 ? 'b' : size === 16 ? 'w' : size === 32 ? 'd' : 'q';
  const pname = rep === 0xf3 ? (cmp ? 'repe ' : 'rep ') : rep === 0xf2 ? 'repne ' : '';
  c.emit(encode({ prefixes: pre, opsize: size, op: [op + (size === 8 ? 0 : 1)], text: `${a32 ? 'addr32 ' : ''}${pname}${name}${sfx}` }), fx);
};

const genAtomic: Gen = (c) => {
  const r = c.r;
  const k = r.int(6);
  const size = c.size();
  if (k < 2) { // xadd
    const d = c.rm(size, true, 0.6);
    const s = c.dst(size, d.kind === 'reg' ? [d.n] : []);
    const lock = d.kind === 'mem' && r.chance(0.5) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: size, op: [0x0f, size === 8 ? 0xc0 : 0xc1], reg: s, rm: d, text: `${lock.length ? 'lock ' : ''}xadd ${opText(d)}, ${opText(s)}` }), { D: ALL6 });
  } else if (k < 4) { // cmpxchg
    const d = c.rm(size, true, 0.6);
    const s = c.anyReg(size);
    if (r.chance(0.5)) { // make the comparison succeed
      c.emit(encode({ opsize: size, op: [size === 8 ? 0x8a : 0x8b], reg: reg(RAX, size), rm: d, text: `mov ${regName(RAX, size)}, ${opText(d)}` }));
    }
    const lock = d.kind === 'mem' && r.chance(0.5) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: size, op: [0x0f, size === 8 ? 0xb0 : 0xb1], reg: s, rm: d, text: `${lock.length ? 'lock ' : ''}cmpxchg ${opText(d)}, ${opText(s)}` }), { D: ALL6 });
  } else if (k === 4 && c.feat.cx8) { // cmpxchg8b
    c.tag = 'cmpxchg8b';
    const m = c.mem(64, true, { noRip: true });
    if (r.chance(0.5)) {
      c.emit(encode({ opsize: 32, op: [0x8b], reg: reg(RAX, 32), rm: m, text: `mov eax, ${opText(m)}` }));
      c.emit(encode({ opsize: 32, op: [0x8b], reg: reg(RDX, 32), rm: { ...m, disp: m.disp + 4, size: 32 }, text: `mov edx, ${memText({ ...m, disp: m.disp + 4 })}` }));
    }
    const lock = r.chance(0.5) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, op: [0x0f, 0xc7], reg: 1, rm: m, text: `${lock.length ? 'lock ' : ''}cmpxchg8b ${opText(m)}` }), { D: ZF });
  } else if (c.feat.cx16) { // cmpxchg16b, 16-byte aligned
    c.tag = 'cmpxchg16b';
    const p = c.dst(64, [RAX, RDX]);
    const addr = dataAddr(r) & ~15;
    c.emit(encode({ opsize: 32, op: [0xb8], opreg: reg(p.n, 32), immBytes: imm(addr, 4), text: `mov ${regName(p.n, 32)}, ${hex(addr)}` }));
    const m: Mem = { kind: 'mem', size: 128, base: p.n, disp: 0 };
    if (r.chance(0.5)) {
      c.emit(encode({ opsize: 64, op: [0x8b], reg: reg(RAX, 64), rm: { ...m, size: 64 }, text: `mov rax, [${regName(p.n, 64)}]` }));
      c.emit(encode({ opsize: 64, op: [0x8b], reg: reg(RDX, 64), rm: { ...m, size: 64, disp: 8 }, text: `mov rdx, [${regName(p.n, 64)}+8]` }));
    }
    const lock = r.chance(0.5) ? [0xf0] : [];
    c.emit(encode({ prefixes: lock, opsize: 64, op: [0x0f, 0xc7], reg: 1, rm: m, text: `${lock.length ? 'lock ' : ''}cmpxchg16b ${opText(m)}` }), { D: ZF });
  } else { c.tag = 'alu'; genAlu(c); }
};

const genMovbe: Gen = (c) => {
  if (!c.feat.movbe) { c.tag = 'mov'; return genMov(c); }
  const size = c.sizeNo8();
  const store = c.r.chance(0.5);
  const m = c.mem(size, store);
  if (store) {
    const s = c.anyReg(size);
    c.emit(encode({ opsize: size, op: [0x0f, 0x38, 0xf1], reg: s, rm: m, text: `movbe ${opText(m)}, ${opText(s)}` }));
  } else {
    const d = c.dst(size);
    c.emit(encode({ opsize: size, op: [0x0f, 0x38, 0xf0], reg: d, rm: m, text: `movbe ${opText(d)}, ${opText(m)}` }));
  }
};

const genNop: Gen = (c) => {
  const r = c.r;
  const k = r.int(8);
  if (k === 0) c.emit(raw([0x90], 'nop'));
  else if (k === 1) c.emit(raw([0x66, 0x90], 'xchg ax, ax'));
  else if (k === 2) c.emit(raw([0xf3, 0x90], 'pause'));
  else if (k <= 4) {
    const size = r.chance(0.3) ? 16 : 32;
    const o: RM = r.chance(0.6) ? c.mem(0, false) : c.anyReg(size);
    c.emit(encode({ opsize: size, op: [0x0f, 0x1f], reg: 0, rm: o, text: `nop ${opText(o)}` }));
  } else if (k === 5) {
    c.tag = 'prefetch';
    const m = c.mem(8, false);
    const h = r.int(4);
    c.emit(encode({ op: [0x0f, 0x18], reg: h, rm: m, text: `${['prefetchnta', 'prefetcht0', 'prefetcht1', 'prefetcht2'][h]} ${opText(m)}` }));
  } else {
    c.tag = 'fence';
    const [b, t] = r.pick([[0xe8, 'lfence'], [0xf0, 'mfence'], [0xf8, 'sfence']] as [number, string][]);
    c.emit(raw([0x0f, 0xae, b], t));
  }
};

const genXlat: Gen = (c) => {
  // xlat reads [rbx + al]
  if (c.X === RBX) { c.tag = 'mov'; return genMov(c); }
  if (c.W.includes(RBX)) {
    const p = dataAddr(c.r);
    c.emit(raw([0xbb, ...imm(p, 4)], `mov ebx, ${hex(p)}`));
  }
  c.emit(raw(c.r.chance(0.2) ? [0x48, 0xd7] : [0xd7], 'xlat'));
};

const genLoopcc: Gen = (c) => {
  // forward LOOP / LOOPE / LOOPNE: decrement rcx, branch forward
  if (!c.W.includes(RCX) || c.noRcx) { c.tag = 'jcc'; return genJcc(c); }
  const r = c.r;
  const k = r.int(3);
  const R = k === 0 ? 0 : ZF;
  c.define(R);
  c.emit(raw([0xb9, ...imm(r.int(3), 4)], 'mov ecx, n'));
  const l = forward(c, c.undef);
  c.emit(encode({ op: [0xe2 - k], relFixup: { kind: 'rel8', label: l }, text: `${['loop', 'loope', 'loopne'][k]} L${l.id}` }), { R });
};

// ---------------------------------------------------------------- fault groups (terminal)

function movImm64(c: Ctx, d: Reg, v: bigint) {
  c.emit(encode({ opsize: 64, op: [0xb8], opreg: reg(d.n, 64), immBytes: imm(v, 8), text: `mov ${regName(d.n, 64)}, ${hex(v)}` }));
}

const UNMAPPED: bigint[] = [0n, 8n, 0xff8n, 0x1000n, 0xfff000n, 0x0fff_fff8n, 0x1001_0000n, 0x1800_0000n, 0x1fff_fff8n,
  0x2001_0000n, 0x2001_0008n, 0x3000_0000n, 0xffff_f000n, 0x1_0000_0000n, 0x1000_0000_0000n, 0x1000_0000_0000n + 0x123n];

const genFaultPF: Gen = (c) => {
  const r = c.r;
  const k = r.int(12);
  const size = c.size();
  const p = c.dst(64, [RAX]);
  if (k <= 2) { // load / store / read-modify-write at an unmapped address
    const a = r.pick(UNMAPPED) + BigInt(r.int(8));
    movImm64(c, p, a);
    // (never wrap below 0: Linux reports user accesses to the kernel half with the PROT bit set)
    const m: Mem = { kind: 'mem', size, base: p.n, disp: r.chance(0.7) ? 0 : r.range(a < 0x1000n ? 0 : -16, 16) };
    if (k === 0) c.emit(encode({ opsize: size, op: [size === 8 ? 0x8a : 0x8b], reg: reg(RAX, size), rm: m, text: `mov ${regName(RAX, size)}, ${opText(m)}` }));
    else if (k === 1) c.emit(encode({ opsize: size, op: [size === 8 ? 0x88 : 0x89], reg: reg(RAX, size), rm: m, text: `mov ${opText(m)}, ${regName(RAX, size)}` }));
    else c.emit(encode({ opsize: size, op: [size === 8 ? 0x00 : 0x01], reg: reg(RAX, size), rm: m, text: `add ${opText(m)}, ${regName(RAX, size)}` }), { D: ALL6 });
  } else if (k === 3) { // write to the read-only code region (store, RMW, xchg, failing cmpxchg)
    const m: Mem = { kind: 'mem', size, rip: c.start, disp: r.int(8) };
    c.usesRip = true;
    const which = r.int(4);
    if (which === 0) c.emit(encode({ opsize: size, op: [size === 8 ? 0x88 : 0x89], reg: reg(RCX, size), rm: m, text: `mov ${opText(m)}, ${regName(RCX, size)}` }));
    else if (which === 1) c.emit(encode({ opsize: size, op: [size === 8 ? 0x00 : 0x01], reg: reg(RCX, size), rm: m, text: `add ${opText(m)}, ${regName(RCX, size)}` }), { D: ALL6 });
    else if (which === 2) c.emit(encode({ opsize: size, op: [size === 8 ? 0x86 : 0x87], reg: reg(RCX, size), rm: m, text: `xchg ${opText(m)}, ${regName(RCX, size)}` }));
    else c.emit(encode({ prefixes: r.chance(0.5) ? [0xf0] : [], opsize: size, op: [0x0f, size === 8 ? 0xb0 : 0xb1], reg: reg(RCX, size), rm: m, text: `cmpxchg ${opText(m)}, ${regName(RCX, size)}` }), { D: ALL6 });
  } else if (k === 4) { // access straddling the end of the data window or of the code region
    const end = r.chance(0.7) ? DATA_BASE + BigInt(WIN) : CODE_BASE + BigInt(WIN);
    const bytes = size / 8;
    const a = end - BigInt(r.range(1, Math.max(1, bytes - 1)));
    movImm64(c, p, a);
    const m: Mem = { kind: 'mem', size, base: p.n, disp: 0 };
    const st = end === DATA_BASE + BigInt(WIN) && r.chance(0.5);
    c.emit(encode({ opsize: size, op: [(st ? 0x88 : 0x8a) + (size === 8 ? 0 : 1)], reg: reg(RAX, size), rm: m, text: `mov ${st ? opText(m) + ', ' + regName(RAX, size) : regName(RAX, size) + ', ' + opText(m)}` }));
  } else if (k === 5) { // instruction fetch from the (non-executable) data window or unmapped memory
    const t = r.chance(0.5) ? DATA_BASE + BigInt(r.int(WIN)) : r.pick(UNMAPPED);
    movImm64(c, p, t);
    if (r.chance(0.5)) c.emit(encode({ op: [0xff], reg: 4, rm: reg(p.n, 64), text: `jmp ${regName(p.n, 64)}` }));
    else c.emit(encode({ op: [0xff], reg: 2, rm: reg(p.n, 64), text: `call ${regName(p.n, 64)}` }));
  } else if (k === 6) { // push/call with RSP in the code region or below the data window
    const sp = r.chance(0.5) ? CODE_BASE + BigInt(0x100 + r.int(0x100)) : DATA_BASE + BigInt(r.int(8));
    c.emit(raw([0x48, 0xbc, ...imm(sp, 8)], `mov rsp, ${hex(sp)}`));
    const w = r.int(3);
    if (w === 0) c.emit(raw([0x50], 'push rax'));
    else if (w === 1) c.emit(raw([0x9c], 'pushf'), {}); // flags defined or not, the push faults
    else c.emit(raw([0xe8, 0, 0, 0, 0], 'call +0'));
  } else if (k === 7) { // pop from an unmapped stack / pop into an unmapped memory operand
    if (r.chance(0.5)) {
      const sp = r.pick(UNMAPPED);
      c.emit(raw([0x48, 0xbc, ...imm(sp, 8)], `mov rsp, ${hex(sp)}`));
      c.emit(raw(r.chance(0.5) ? [0x58] : [0xc3], 'pop rax / ret'));
    } else {
      movImm64(c, p, r.pick(UNMAPPED));
      c.emit(encode({ op: [0x8f], reg: 0, rm: { kind: 'mem', size: 64, base: p.n, disp: 0 }, text: `pop qword ptr [${regName(p.n, 64)}]` }));
    }
  } else if (k === 8) { // rep string op running off the data window
    const fwd = r.chance(0.5);
    c.emit(raw([fwd ? 0xfc : 0xfd], fwd ? 'cld' : 'std'));
    const s = fwd ? Number(DATA_BASE) + WIN - r.range(1, 40) : Number(DATA_BASE) + r.range(0, 40);
    const d = Number(DATA_BASE) + 0x8000 + r.int(0x100);
    const srcIsEdge = r.chance(0.5);
    c.emit(raw([0xbe, ...imm(srcIsEdge ? s : d, 4)], 'mov esi, ..'));
    c.emit(raw([0xbf, ...imm(srcIsEdge ? d : s, 4)], 'mov edi, ..'));
    c.emit(raw([0xb9, ...imm(r.range(50, 100), 4)], 'mov ecx, ..'));
    const [, op] = r.pick(STR_OPS);
    const sz = c.size();
    c.define(ALL6);
    c.emit(encode({ prefixes: [0xf3], opsize: sz, op: [op + (sz === 8 ? 0 : 1)], text: `rep str ${op.toString(16)}` }), op === 0xa6 || op === 0xae ? { D: ALL6 } : {});
  } else if (k === 9) { // page fault on the second half of a locked RMW / xchg at the window end
    movImm64(c, p, DATA_BASE + BigInt(WIN) - 4n);
    c.emit(encode({ prefixes: [0xf0], opsize: 64, op: [0x0f, 0xc1], reg: reg(RCX, 64), rm: { kind: 'mem', size: 64, base: p.n, disp: 0 }, text: `lock xadd [${regName(p.n, 64)}], rcx` }), { D: ALL6 });
  } else if (k === 10) { // jump into the code region past the end (zeros = add [rax], al; then unmapped)
    c.emit(raw([0xb8, ...imm(Number(DATA_BASE) + 0x3000 + r.int(0x1000), 4)], 'mov eax, data'));
    movImm64(c, p, CODE_BASE + BigInt(WIN) - 2n);
    c.emit(encode({ op: [0xff], reg: 4, rm: reg(p.n, 64), text: `jmp ${regName(p.n, 64)}` }));
  } else { // movs with the destination in the code region
    c.emit(raw([0xbe, ...imm(Number(DATA_BASE) + 0x100, 4)], 'mov esi, ..'));
    c.emit(raw([0xbf, ...imm(Number(CODE_BASE) + r.int(16), 4)], 'mov edi, code'));
    c.emit(raw([0xa4], 'movsb'));
  }
  c.terminated = true;
};

const genFaultDE: Gen = (c) => {
  const r = c.r;
  const size = c.size();
  const k = r.int(3);
  const signed = r.chance(0.5);
  if (k === 0) { // divide by zero (register or memory)
    if (r.chance(0.5)) {
      const d = c.dst(size, [RAX, RDX]);
      c.emit(encode({ opsize: size === 8 ? 32 : size === 16 ? 32 : size, op: [0x31], reg: reg(d.n, 32), rm: reg(d.n, 32), text: `xor ${regName(d.n, 32)}, ${regName(d.n, 32)}` }), { D: ALL6 & ~AF, U: AF });
      c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: signed ? 7 : 6, rm: d, text: `${signed ? 'idiv' : 'div'} ${opText(d)}` }), { U: ALL6 });
    } else {
      const m = c.mem(size, true, { noRip: true });
      c.emit(encode({ opsize: size, op: [size === 8 ? 0xc6 : 0xc7], reg: 0, rm: m, immBytes: immBytesFor(size, 0n), text: `mov ${opText(m)}, 0` }));
      c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: signed ? 7 : 6, rm: m, text: `${signed ? 'idiv' : 'div'} ${opText(m)}` }), { U: ALL6 });
    }
  } else if (k === 1) { // unsigned quotient overflow: high half >= divisor
    const d = c.dst(size, [RAX, RDX]);
    const v = BigInt(r.range(1, 100));
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xb0 : 0xb8], opreg: d, immBytes: imm(v, size / 8), text: `mov ${opText(d)}, ${v}` }));
    if (size === 8) c.emit(raw([0xb4, Number(v) + r.int(100)], 'mov ah, >= divisor'));
    else c.emit(raw([0x48, 0xc7, 0xc2, ...imm(v + BigInt(r.int(1000)), 4)], 'mov rdx, >= divisor'));
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: 6, rm: d, text: `div ${opText(d)}` }), { U: ALL6 });
  } else { // signed overflow: MIN / -1, or a large dividend
    const d = c.dst(size, [RAX, RDX]);
    const min = 1n << BigInt(size - 1);
    movImm64(c, reg(RAX, 64), r.chance(0.7) ? min : (1n << BigInt(size - 1)) - 1n);
    extendDividend(c, size, true);
    if (r.chance(0.3)) c.emit(raw([0x48, 0xc7, 0xc2, 0x01, 0, 0, 0], 'mov rdx, 1'));
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xb0 : 0xb8], opreg: d, immBytes: imm(-1n, size / 8), text: `mov ${opText(d)}, -1` }));
    c.emit(encode({ opsize: size, op: [size === 8 ? 0xf6 : 0xf7], reg: 7, rm: d, text: `idiv ${opText(d)}` }), { U: ALL6 });
  }
  c.terminated = true;
};

/** Opcodes that raise #UD in 64-bit mode at CPL 3 on every x86-64 CPU. */
export const UD_OPCODES: [number[], string][] = [
  [[0x06], 'push es'], [[0x07], 'pop es'], [[0x0e], 'push cs'], [[0x16], 'push ss'], [[0x17], 'pop ss'],
  [[0x1e], 'push ds'], [[0x1f], 'pop ds'], [[0x27], 'daa'], [[0x2f], 'das'], [[0x37], 'aaa'], [[0x3f], 'aas'],
  [[0x60], 'pusha'], [[0x61], 'popa'], [[0xce], 'into'], [[0xd4, 0x0a], 'aam'], [[0xd5, 0x0a], 'aad'],
  [[0xd6], 'salc'], [[0x9a, 0, 0, 0, 0, 0, 0], 'call far'], [[0xea, 0, 0, 0, 0, 0, 0], 'jmp far'],
  [[0x82, 0xc0, 0x01], 'add al, 1 (82)'], [[0x0f, 0x0b], 'ud2'], [[0x0f, 0xb9, 0xc0], 'ud1 eax, eax'],
  [[0x0f, 0xa6], '0f a6'], [[0x0f, 0xa7], '0f a7'],
  [[0x0f, 0x04], '0f 04'], [[0x0f, 0x0a], '0f 0a'], [[0x0f, 0x0c], '0f 0c'],
  [[0x0f, 0x36], '0f 36'], [[0x8c, 0xf8], 'mov eax, seg7'], [[0x8e, 0xc8], 'mov cs, eax'],
  [[0xfe, 0xd0], 'fe /2'], [[0xff, 0xd8], 'call far reg'], [[0xff, 0xe8], 'jmp far reg'], [[0xff, 0xf8], 'ff /7'],
  [[0x0f, 0xc7, 0xc8], 'cmpxchg8b reg'], [[0x8d, 0xc0], 'lea eax, eax'], [[0x0f, 0xb2, 0xc0], 'lss reg'],
  [[0xc6, 0xc8, 0x00], 'c6 /1'], [[0xc7, 0xc8, 0, 0, 0, 0], 'c7 /1'],
];
/** LOCK applied to an instruction that cannot be locked. */
export const LOCK_UD: [number[], string][] = [
  [[0xf0, 0x90], 'lock nop'], [[0xf0, 0x01, 0xc0], 'lock add eax, eax'], [[0xf0, 0x8b, 0x03], 'lock mov eax, [rbx]'],
  [[0xf0, 0x89, 0x03], 'lock mov [rbx], eax'], [[0xf0, 0x39, 0x03], 'lock cmp [rbx], eax'], [[0xf0, 0x85, 0x03], 'lock test [rbx], eax'],
  [[0xf0, 0x48, 0x87, 0xc3], 'lock xchg rbx, rax'], [[0xf0, 0x0f, 0xa3, 0x03], 'lock bt [rbx], eax'],
  [[0xf0, 0xf7, 0xd0], 'lock not eax'], [[0xf0, 0xff, 0xc0], 'lock inc eax'], [[0xf0, 0xa4], 'lock movsb'],
  [[0xf0, 0x0f, 0xaf, 0x03], 'lock imul eax, [rbx]'], [[0xf0, 0xd1, 0x23], 'lock shl [rbx], 1'], [[0xf0, 0x9c], 'lock pushf'],
  [[0xf0, 0x8d, 0x03], 'lock lea'], [[0xf0, 0x0f, 0xb1, 0xc3], 'lock cmpxchg ebx, eax'], [[0xf0, 0xc3], 'lock ret'],
];
const genFaultUD: Gen = (c) => {
  const r = c.r;
  if (r.chance(0.35)) {
    c.tag = 'fault_ud_lock';
    const [b, t] = r.pick(LOCK_UD);
    // [rbx] operands must not fault first: point rbx at the window if we may write it
    if (c.W.includes(RBX)) c.emit(raw([0xbb, ...imm(Number(DATA_BASE) + 0x4000, 4)], 'mov ebx, data'));
    else if (b.includes(0x03)) return genFaultUD2(c);
    c.emit(raw(b, t));
  } else genFaultUD2(c);
  c.terminated = true;
};
function genFaultUD2(c: Ctx) {
  const [b, t] = c.r.pick(UD_OPCODES);
  c.emit(raw(b, t));
  c.terminated = true;
}

/** Privileged or I/O instructions: #GP(0) at CPL 3 with IOPL 0. */
export const GP_OPCODES: [number[], string][] = [
  [[0xf4], 'hlt'], [[0xfa], 'cli'], [[0xfb], 'sti'], [[0xe4, 0x60], 'in al, 0x60'], [[0xe5, 0x70], 'in eax, 0x70'],
  [[0xe6, 0x80], 'out 0x80, al'], [[0xec], 'in al, dx'], [[0xed], 'in eax, dx'], [[0xee], 'out dx, al'], [[0x66, 0xef], 'out dx, ax'],
  [[0x6c], 'insb'], [[0x6e], 'outsb'], [[0xf3, 0x6d], 'rep insd'], [[0x0f, 0x32], 'rdmsr'], [[0x0f, 0x30], 'wrmsr'],
  [[0x0f, 0x20, 0xc0], 'mov rax, cr0'], [[0x0f, 0x22, 0xd8], 'mov cr3, rax'], [[0x0f, 0x20, 0xe0], 'mov rax, cr4'],
  [[0x0f, 0x21, 0xc0], 'mov rax, dr0'], [[0x0f, 0x23, 0xf8], 'mov dr7, rax'], [[0x0f, 0x06], 'clts'], [[0x0f, 0x08], 'invd'],
  [[0x0f, 0x09], 'wbinvd'], [[0x0f, 0x01, 0x3b], 'invlpg [rbx]'], [[0x0f, 0x01, 0x13], 'lgdt [rbx]'], [[0x0f, 0x01, 0x1b], 'lidt [rbx]'],
  [[0x0f, 0x00, 0xd0], 'lldt ax'], [[0x0f, 0x00, 0xd8], 'ltr ax'], [[0x0f, 0x01, 0xf0], 'lmsw ax'], [[0x0f, 0x01, 0xf8], 'swapgs'],
  // XSETBV is left out: it is #UD unless CR4.OSXSAVE, which Linux sets and the exec
  // environment (whose CPUID reports no XSAVE) does not, so the two sides differ by design.
];
/** Non-canonical (48-bit) addresses that stay non-canonical within +-0x1000. Never anything at or above
 * 0x7ffffffff000 that is canonical: Linux reports user accesses to those with the PROT bit set. */
const NONCANON_BASES: bigint[] = [0x8000000000000000n, 0x0000800000001000n, 0xffff7fffffff0000n, 0x7fffffffffff0000n,
  0x1234567800000000n, 0xfff0000000000000n, 0x8000800000000000n];
function noncanon(r: Rng): bigint { return r.pick(NONCANON_BASES) + BigInt(r.int(0x800)); }
const genFaultGP: Gen = (c) => {
  const r = c.r;
  const k = r.int(4);
  if (k === 0) {
    const [b, t] = r.pick(GP_OPCODES);
    if (b.includes(0x3b) || b.includes(0x13) || b.includes(0x1b)) {
      if (!c.W.includes(RBX)) { c.emit(raw([0xf4], 'hlt')); c.terminated = true; return; }
      c.emit(raw([0xbb, ...imm(Number(DATA_BASE) + 0x4000, 4)], 'mov ebx, data'));
    }
    c.emit(raw(b, t));
  } else if (k <= 2) { // non-canonical data access (not through RSP/RBP: that is #SS)
    const p = c.dst(64, [RAX, RBP]);
    const a = noncanon(r);
    movImm64(c, p, a);
    const size = c.size();
    const m: Mem = { kind: 'mem', size, base: p.n, disp: r.chance(0.5) ? 0 : r.range(-8, 8) };
    const w = r.int(4);
    if (w === 0) c.emit(encode({ opsize: size, op: [size === 8 ? 0x8a : 0x8b], reg: reg(RAX, size), rm: m, text: `mov ${regName(RAX, size)}, ${opText(m)}` }));
    else if (w === 1) c.emit(encode({ opsize: size, op: [size === 8 ? 0x88 : 0x89], reg: reg(RAX, size), rm: m, text: `mov ${opText(m)}, ${regName(RAX, size)}` }));
    else if (w === 2) c.emit(encode({ opsize: size, op: [size === 8 ? 0x00 : 0x01], reg: reg(RAX, size), rm: m, text: `add ${opText(m)}, ${regName(RAX, size)}` }), { D: ALL6 });
    else {
      c.tag = 'fault_gp_str';
      c.emit(encode({ opsize: 64, op: [0x89], reg: reg(p.n, 64), rm: reg(RSI, 64), text: `mov rsi, ${regName(p.n, 64)}` }));
      c.emit(raw([0xac], 'lodsb'));
    }
  } else { // cmpxchg16b on a misaligned address
    if (!c.feat.cx16) { c.emit(raw([0xfa], 'cli')); c.terminated = true; return; }
    c.tag = 'fault_gp_cx16';
    const p = c.dst(64, [RAX, RDX]);
    const addr = (dataAddr(r) & ~15) + r.range(1, 15);
    c.emit(encode({ opsize: 32, op: [0xb8], opreg: reg(p.n, 32), immBytes: imm(addr, 4), text: `mov ${regName(p.n, 32)}, ${hex(addr)}` }));
    c.emit(encode({ opsize: 64, op: [0x0f, 0xc7], reg: 1, rm: { kind: 'mem', size: 128, base: p.n, disp: 0 }, text: `cmpxchg16b [${regName(p.n, 64)}]` }), { D: ZF });
  }
  c.terminated = true;
};

/** Non-canonical branch targets: the SDM faults on the branch (RIP of the branch). */
const genFaultGPJmp: Gen = (c) => {
  const p = c.dst(64);
  movImm64(c, p, noncanon(c.r));
  const k = c.r.int(3);
  if (k === 0) c.emit(encode({ op: [0xff], reg: 4, rm: reg(p.n, 64), text: `jmp ${regName(p.n, 64)}` }));
  else if (k === 1) c.emit(encode({ op: [0xff], reg: 2, rm: reg(p.n, 64), text: `call ${regName(p.n, 64)}` }));
  else { c.emit(encode({ op: [0x50], opreg: reg(p.n, 64), text: `push ${regName(p.n, 64)}` })); c.emit(raw([0xc3], 'ret')); }
  c.terminated = true;
};

/** Non-canonical stack references: #SS(0). */
const genFaultSS: Gen = (c) => {
  const r = c.r;
  const a = noncanon(r);
  if (r.chance(0.5)) {
    c.emit(raw([0x48, 0xbc, ...imm(a, 8)], `mov rsp, ${hex(a)}`));
    c.emit(raw(r.pick([[0x50], [0x58], [0x9c], [0xc3]]), 'push/pop/pushf/ret'));
  } else if (c.W.includes(RBP)) {
    c.emit(raw([0x48, 0xbd, ...imm(a, 8)], `mov rbp, ${hex(a)}`));
    c.emit(raw([0x8b, 0x45, 0x08], 'mov eax, [rbp+8]'));
  } else {
    c.emit(raw([0x48, 0xbc, ...imm(a, 8)], `mov rsp, ${hex(a)}`));
    c.emit(raw([0x8b, 0x04, 0x24], 'mov eax, [rsp]'));
  }
  c.terminated = true;
};

const genFaultBP: Gen = (c) => {
  // (not CD 03: INT n is a software interrupt that goes through the IDT, which the exec
  // environment does not have (#GP(0x1a)), while the host's IDT delivers #BP)
  c.emit(raw([0xcc], 'int3'));
  // a few instructions that never run
  c.emit(raw([0x48, 0x31, 0xc0], 'xor rax, rax (not reached)'), { D: ALL6 & ~AF, U: AF });
  c.terminated = true;
};

// ---------------------------------------------------------------- registry

export interface Category { name: string; gen: Gen; weight: number; simple?: boolean; fault?: boolean; extra?: boolean }

export const CATEGORIES: Category[] = [
  { name: 'alu', gen: genAlu, weight: 10, simple: true },
  { name: 'test', gen: genTest, weight: 3, simple: true },
  { name: 'unary', gen: genUnary, weight: 4, simple: true },
  { name: 'mov', gen: genMov, weight: 6, simple: true },
  { name: 'movx', gen: genMovx, weight: 3, simple: true },
  { name: 'lea', gen: genLea, weight: 3, simple: true },
  { name: 'xchg', gen: genXchg, weight: 2, simple: true },
  { name: 'bswap', gen: genBswap, weight: 1, simple: true },
  { name: 'shift', gen: genShift, weight: 8, simple: true },
  { name: 'shld', gen: genShld, weight: 4, simple: true },
  { name: 'mul', gen: genMul, weight: 5, simple: true },
  { name: 'div', gen: genDiv, weight: 4, simple: true },
  { name: 'conv', gen: genConv, weight: 2, simple: true },
  { name: 'bt', gen: genBt, weight: 4, simple: true },
  { name: 'bsf', gen: genBsf, weight: 3, simple: true },
  { name: 'count', gen: genCount, weight: 3, simple: true },
  { name: 'setcc', gen: genSetcc, weight: 3, simple: true },
  { name: 'cmov', gen: genCmov, weight: 3, simple: true },
  { name: 'flags', gen: genFlagOps, weight: 3, simple: true },
  { name: 'atomic', gen: genAtomic, weight: 4, simple: true },
  { name: 'movbe', gen: genMovbe, weight: 1, simple: true },
  { name: 'nop', gen: genNop, weight: 2, simple: true },
  { name: 'jcc', gen: genJcc, weight: 6 },
  { name: 'jmp_ind', gen: genJmpInd, weight: 2 },
  { name: 'call', gen: genCall, weight: 3 },
  { name: 'loop', gen: genLoop, weight: 2 },
  { name: 'loopcc', gen: genLoopcc, weight: 1 },
  { name: 'frame', gen: genFrame, weight: 1.5 },
  { name: 'enter', gen: genEnter, weight: 1 },
  { name: 'stack', gen: genStack, weight: 5 },
  { name: 'pushf', gen: genPushf, weight: 3 },
  { name: 'string', gen: genString, weight: 5 },
  { name: 'xlat', gen: genXlat, weight: 1 },
  { name: 'bsf_zero', gen: genBsfZero, weight: 0.5, fault: true },
  { name: 'fault_de', gen: genFaultDE, weight: 1, fault: true },
  { name: 'fault_pf', gen: genFaultPF, weight: 2, fault: true },
  { name: 'fault_ud', gen: genFaultUD, weight: 1, fault: true },
  { name: 'fault_gp', gen: genFaultGP, weight: 1, fault: true },
  { name: 'fault_gp_jmp', gen: genFaultGPJmp, weight: 0.3, fault: true, extra: true },
  { name: 'fault_ss', gen: genFaultSS, weight: 0.5, fault: true },
  { name: 'fault_bp', gen: genFaultBP, weight: 1, fault: true },
];

function pickSimple(c: Ctx): [Gen, string] {
  const cats = CATEGORIES.filter((k) => k.simple && !c.exclude.includes(k.name));
  const cat = c.r.weighted(cats.map((k) => [k, k.weight] as [Category, number]));
  return [cat.gen, cat.name];
}

/** Run a group, retrying with fresh random choices when an operand combination cannot be encoded. */
function runGroup(c: Ctx, g: Gen) {
  for (let attempt = 0; ; attempt++) {
    const snap = {
      items: c.items.length, undef: c.undef, pending: c.pending.map((p) => ({ ...p })), tags: new Set(c.tags),
      regMask: c.regMask.slice(), tag: c.tag, terminated: c.terminated, usesRip: c.usesRip, W: c.W, noRcx: c.noRcx, inBody: c.inBody,
    };
    try {
      g(c);
      return;
    } catch (e) {
      if (!(e instanceof EncodeError) || attempt > 50) throw e;
      c.items.length = snap.items; c.undef = snap.undef; c.pending = snap.pending; c.tags = snap.tags;
      c.regMask = snap.regMask; c.tag = snap.tag; c.terminated = snap.terminated; c.usesRip = snap.usesRip;
      c.W = snap.W; c.noRcx = snap.noRcx; c.inBody = snap.inBody;
    }
  }
}

export interface GenOptions {
  features?: Features;
  focus?: string; // concentrate on one category
  exclude?: string[]; // never generate these categories (e.g. while a known bug is open)
  maxGroups?: number;
  excludeExtra?: boolean;
}

/** Generate case `index` of `seed`. */
export function generateCase(seed: number, index: number, opts: GenOptions = {}): GenCase {
  const feat = opts.features ?? ALL_FEATURES;
  const r = new Rng(seed, index);
  const c = new Ctx(r, feat);
  c.exclude = opts.exclude ?? [];
  const cats = CATEGORIES.filter((k) => k.weight > 0 && !(opts.excludeExtra && k.extra) && !opts.exclude?.includes(k.name));
  const focus = opts.focus ? CATEGORIES.find((k) => k.name === opts.focus)! : r.weighted(cats.map((k) => [k, k.weight] as [Category, number]));
  const nonFault = cats.filter((k) => !k.fault);
  const maxG = opts.maxGroups ?? 14;
  const nGroups = r.chance(0.1) ? r.range(1, 3) : r.range(2, maxG);
  const rflags0 = (r.u32() & ALL6) | (r.chance(0.2) ? DF : 0) | 0x202;
  for (let g = 0; g < nGroups && !c.terminated; g++) {
    // labels of forward branches that land on this group
    for (const p of c.pending) {
      if (p.remaining === 0) { c.place(p.label); c.undef |= p.undef; p.remaining = -1; }
      else if (p.remaining > 0) p.remaining--;
    }
    c.pending = c.pending.filter((p) => p.remaining >= 0);
    let cat: Category;
    if (focus.fault) cat = g === nGroups - 1 ? focus : r.weighted(nonFault.map((k) => [k, k.weight] as [Category, number]));
    else cat = r.chance(0.55) ? focus : r.weighted(nonFault.map((k) => [k, k.weight] as [Category, number]));
    c.tag = cat.name;
    runGroup(c, cat.gen);
  }
  if (focus.fault && !c.terminated) { c.tag = focus.name; runGroup(c, focus.gen); }
  for (const p of c.pending) { c.place(p.label); c.undef |= p.undef; }
  c.pending = [];
  if (c.usesRip) {
    // RIP-relative reads see only bytes up to the end of the reading instruction (so that every
    // prefix of the case reads the same bytes); a leading 8-byte NOP makes that at least 8 + 6.
    const nop = raw([0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0], 'nop dword ptr [rax+rax*1+0x0]');
    nop.tag = 'nop'; nop.undef = 0;
    c.items.splice(1, 0, nop);
  }
  const endUndef = c.undef;
  const { code, insns } = layout(c.items);
  const boundaries: [number, number][] = insns.map((i) => [i.off!, i.undef ?? 0]);
  boundaries.push([code.length, endUndef]);
  const regs: Record<string, string> = {};
  for (let n = 0; n < 16; n++) regs[REG_NAMES[n]] = hex(c.regs[n]);
  return {
    exec: { code: Buffer.from(code).toString('hex'), regs, rflags: hex(rflags0), max_insns: 100000 },
    meta: {
      id: `${seed}:${index}`,
      focus: focus.name,
      tags: [...c.tags].filter((t) => t !== 'fixup' && t !== ''),
      boundaries,
      regMask: c.regMask,
      listing: insns.map((i) => ({ off: i.off!, len: i.bytes.length, tag: i.tag ?? '', text: i.text })),
    },
  };
}

/** The rflags bits to compare when the run stopped at `rip` (code-relative offset lookup). */
export function compareMaskAt(meta: CaseMeta, rip: bigint): number {
  const off = Number(rip - CODE_BASE);
  for (const [o, u] of meta.boundaries) if (o === off) return CMP_MASK & ~u;
  // not an instruction boundary (e.g. a fetch fault outside the code): mask every flag undefined anywhere
  let all = 0;
  for (const [, u] of meta.boundaries) all |= u;
  return CMP_MASK & ~all;
}

/** A prefix of a case: its first `n` instructions (for minimising mismatches). */
export function prefixCase(gc: GenCase, n: number): GenCase {
  const { listing } = gc.meta;
  const end = n < listing.length ? listing[n].off : gc.exec.code.length / 2;
  return {
    exec: { ...gc.exec, code: gc.exec.code.slice(0, end * 2) },
    meta: {
      ...gc.meta,
      id: `${gc.meta.id}/${n}`,
      boundaries: [...gc.meta.boundaries.filter(([o]) => o < end), [end, gc.meta.boundaries.find(([o]) => o === end)?.[1] ?? 0]],
      listing: listing.slice(0, n),
      regMask: n < listing.length ? [] : gc.meta.regMask,
    },
  };
}

export { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
