// What the gdb stub tells gdb about the target: the target description XML
// (gdb's features/i386/64bit-core.xml and 64bit-segments.xml, with the
// register numbers the g/G/p/P packets use) and the register file in that
// order. Our CPU has no x87 state; gdb's amd64 architecture requires the x87
// registers in the core feature, so they read as an initialised FPU (FCW
// 0x37f) and ignore writes.
import type { Machine } from '../machine.js';
import { GPR_NAMES } from '../machine.js';
import { readReg, writeReg, RFLAGS_BITS } from './registers.js';

export interface GdbReg {
  name: string;
  bits: number;
  type: string;
  group?: string;
  feature: 'core' | 'segments';
  /** Register in our CPU (readReg/writeReg); undefined for the x87 placeholders. */
  cpu?: string;
  /** The value of a placeholder. */
  fixed?: bigint;
}

// gdb's amd64 order (rax rbx rcx rdx rsi rdi rbp rsp r8..r15), by the registers' encoding numbers.
const GPRS = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15].map((n) => GPR_NAMES[n]);

export const GDB_REGS: GdbReg[] = [
  ...GPRS.map((r): GdbReg => ({ name: r, bits: 64, type: r === 'rbp' || r === 'rsp' ? 'data_ptr' : 'int64', feature: 'core', cpu: r })),
  { name: 'rip', bits: 64, type: 'code_ptr', feature: 'core', cpu: 'rip' },
  { name: 'eflags', bits: 32, type: 'i386_eflags', feature: 'core', cpu: 'rflags' },
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((r): GdbReg => ({ name: r, bits: 32, type: 'int32', feature: 'core', cpu: r })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i): GdbReg => ({ name: `st${i}`, bits: 80, type: 'i387_ext', feature: 'core', fixed: 0n })),
  ...['fctrl', 'fstat', 'ftag', 'fiseg', 'fioff', 'foseg', 'fooff', 'fop'].map((r): GdbReg =>
    ({ name: r, bits: 32, type: 'int', group: 'float', feature: 'core', fixed: r === 'fctrl' ? 0x37fn : 0n })),
  { name: 'fs_base', bits: 64, type: 'int', feature: 'segments', cpu: 'fs_base' },
  { name: 'gs_base', bits: 64, type: 'int', feature: 'segments', cpu: 'gs_base' },
];

export const REGNUM = Object.fromEntries(GDB_REGS.map((r, i) => [r.name, i])) as Record<string, number>;

const EFLAGS_FIELDS: [string, number][] = RFLAGS_BITS.map(([bit, name]) => [name, bit]);

export function targetXml(): string {
  const reg = (r: GdbReg, i: number) =>
    `    <reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${i}"${r.group ? ` group="${r.group}"` : ''}/>`;
  const core = GDB_REGS.map((r, i) => [r, i] as const).filter(([r]) => r.feature === 'core').map(([r, i]) => reg(r, i));
  const segs = GDB_REGS.map((r, i) => [r, i] as const).filter(([r]) => r.feature === 'segments').map(([r, i]) => reg(r, i));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>i386:x86-64</architecture>',
    '  <feature name="org.gnu.gdb.i386.core">',
    '    <flags id="i386_eflags" size="4">',
    ...EFLAGS_FIELDS.map(([n, b]) => `      <field name="${n}" start="${b}" end="${b}"/>`),
    '    </flags>',
    ...core,
    '  </feature>',
    '  <feature name="org.gnu.gdb.i386.segments">',
    ...segs,
    '  </feature>',
    '</target>',
    '',
  ].join('\n');
}

function leHex(v: bigint, bytes: number): string {
  let s = '';
  for (let i = 0; i < bytes; i++) { s += Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0'); }
  return s;
}
function parseLe(hexText: string): bigint {
  let v = 0n;
  for (let i = hexText.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(hexText.slice(i, i + 2), 16));
  return v;
}

export function readGdbReg(m: Machine, n: number): string {
  const r = GDB_REGS[n];
  const v = r.cpu ? readReg(m, r.cpu) : r.fixed ?? 0n;
  return leHex(BigInt.asUintN(r.bits, v), r.bits / 8);
}

/** Checks a write of register n (hex, target byte order); returns the apply step, or throws DebugError. */
export function prepareGdbRegWrite(m: Machine, n: number, hexText: string): () => void {
  const r = GDB_REGS[n];
  if (hexText.length !== r.bits / 4 || !/^[0-9a-f]*$/i.test(hexText)) throw new Error(`bad value for ${r.name}`);
  const v = parseLe(hexText);
  if (!r.cpu) return () => {};
  const cur = BigInt.asUintN(r.bits, readReg(m, r.cpu));
  if (v === cur) return () => {};
  const full = r.bits < 64 ? (readReg(m, r.cpu) & ~((1n << BigInt(r.bits)) - 1n)) | v : v;
  // Validate now (read-only registers throw), write later.
  if (['cs', 'ss', 'ds', 'es', 'fs', 'gs'].includes(r.cpu)) writeReg(m, r.cpu, full);
  return () => writeReg(m, r.cpu!, full);
}

export function gRegsHex(m: Machine): string { return GDB_REGS.map((_, i) => readGdbReg(m, i)).join(''); }
export function gPacketHexLength(): number { return GDB_REGS.reduce((n, r) => n + r.bits / 4, 0); }
export { leHex };
