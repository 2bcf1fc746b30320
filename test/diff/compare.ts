// Comparison of one case's native and emulated results, and mismatch reports.

import { compareMaskAt, type CaseMeta, type GenCase, CF, PF, AF, ZF, SF, DF, OF } from './gen.js';
import { REG_NAMES } from './x86.js';

export type Result = Record<string, any>;

const FLAG_NAMES: [number, string][] = [[CF, 'CF'], [PF, 'PF'], [AF, 'AF'], [ZF, 'ZF'], [SF, 'SF'], [DF, 'DF'], [OF, 'OF']];
export function flagList(bits: number): string {
  return FLAG_NAMES.filter(([b]) => bits & b).map(([, n]) => n).join(',') || '-';
}

const big = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? BigInt(v) : undefined);

/** Differences between the host (native) and emulator results; empty when they agree. */
export function diffResults(meta: CaseMeta, nat: Result, emu: Result): string[] {
  const d: string[] = [];
  if (nat.error !== undefined || emu.error !== undefined) {
    if ((nat.error === undefined) !== (emu.error === undefined)) d.push(`error: native ${nat.error ?? '-'} | emu ${emu.error ?? '-'}`);
    return d;
  }
  const natStop = nat.stop === 'timeout' ? 'limit' : nat.stop;
  if (natStop !== emu.stop) d.push(`stop: native ${nat.stop} | emu ${emu.stop}${emu.exit_reason ? ` (${emu.exit_reason})` : ''}`);
  if (nat.stop === 'exception' || emu.stop === 'exception') {
    if (nat.vector !== emu.vector) d.push(`vector: native ${nat.vector} | emu ${emu.vector}`);
    if (nat.error_code !== emu.error_code) d.push(`error_code: native ${nat.error_code} | emu ${emu.error_code}`);
    if (nat.vector === 14 && nat.cr2 !== emu.cr2) d.push(`cr2: native ${nat.cr2} | emu ${emu.cr2}`);
  }
  if (big(nat.rip) !== big(emu.rip)) d.push(`rip: native ${nat.rip} | emu ${emu.rip}`);
  for (const r of REG_NAMES) {
    if (meta.regMask.includes(r)) continue;
    if (big(nat.regs?.[r]) !== big(emu.regs?.[r])) d.push(`${r}: native ${nat.regs?.[r]} | emu ${emu.regs?.[r]}`);
  }
  const mask = BigInt(compareMaskAt(meta, big(nat.rip) ?? 0n));
  const nf = (big(nat.rflags) ?? 0n) & mask, ef = (big(emu.rflags) ?? 0n) & mask;
  if (nf !== ef) d.push(`rflags: native ${nat.rflags} | emu ${emu.rflags} (differ in ${flagList(Number(nf ^ ef))}; compared ${flagList(Number(mask))})`);
  if (nat.data_fnv1a64 !== emu.data_fnv1a64) d.push(`data_fnv1a64: native ${nat.data_fnv1a64} | emu ${emu.data_fnv1a64}`);
  d.push(...diffFpState(nat, emu, meta.fpMask));
  return d;
}

/**
 * SIMD/FPU result bits a case does not compare because the SDM leaves them undefined (cite the
 * section where the mask is set): a set bit is ignored. xmm and st masks are per register
 * ("xmm0".."xmm15": 128 bits, "st0".."st7": 80 bits); `fpu: false` skips the x87 state entirely.
 */
export interface FpMask {
  xmm?: Partial<Record<string, bigint>>;
  mxcsr?: number;
  fcw?: number; fsw?: number; ftw?: number;
  st?: Partial<Record<string, bigint>>;
  fpu?: false;
}

const XMM_KEYS = Array.from({ length: 16 }, (_, i) => `xmm${i}`);
const ST_KEYS = Array.from({ length: 8 }, (_, i) => `st${i}`);

/**
 * Differences in XMM0-15, MXCSR and the x87 state (FCW, FSW, abridged FTW, ST0-7) between two
 * `exec` results; empty when they agree or when either side lacks the fields (an error line).
 * Messages read "xmm3: native 0x.. | emu 0x..", "mxcsr: ...", "fpu.fsw: ...".
 */
export function diffFpState(nat: Result, emu: Result, mask: FpMask = {}): string[] {
  const d: string[] = [];
  if (!nat.xmm || !emu.xmm) {
    if (nat.xmm !== undefined || emu.xmm !== undefined) {
      if (nat.error === undefined && emu.error === undefined) d.push(`xmm: native ${nat.xmm ? 'present' : 'missing'} | emu ${emu.xmm ? 'present' : 'missing'}`);
    }
    return d;
  }
  const cmp = (what: string, a: unknown, b: unknown, m: bigint | number | undefined) => {
    const x = big(a), y = big(b);
    if (x === undefined || y === undefined) { if (a !== b) d.push(`${what}: native ${a} | emu ${b}`); return; }
    const keep = ~BigInt(m ?? 0);
    if ((x & keep) !== (y & keep)) d.push(`${what}: native ${a} | emu ${b}${m ? ` (ignoring mask 0x${BigInt(m).toString(16)})` : ''}`);
  };
  for (const k of XMM_KEYS) cmp(k, nat.xmm[k], emu.xmm[k], mask.xmm?.[k]);
  cmp('mxcsr', nat.mxcsr, emu.mxcsr, mask.mxcsr);
  if (mask.fpu !== false && (nat.fpu || emu.fpu)) {
    const nf = nat.fpu ?? {}, ef = emu.fpu ?? {};
    cmp('fpu.fcw', nf.fcw, ef.fcw, mask.fcw);
    cmp('fpu.fsw', nf.fsw, ef.fsw, mask.fsw);
    cmp('fpu.ftw', nf.ftw, ef.ftw, mask.ftw);
    for (const k of ST_KEYS) cmp(`fpu.${k}`, nf[k], ef[k], mask.st?.[k]);
  }
  return d;
}

/** Which part of the state differs, for grouping: "stop", "vector", "rflags", "regs", "data", "xmm", "mxcsr", "fpu". */
export function diffKinds(diffs: string[]): string {
  const kinds = new Set<string>();
  for (const x of diffs) {
    const k = x.split(':')[0];
    kinds.add(REG_NAMES.includes(k) ? 'regs' : k === 'data_fnv1a64' ? 'data' : /^xmm\d+$/.test(k) ? 'xmm' : k.startsWith('fpu.') ? 'fpu' : k);
  }
  return [...kinds].sort().join('+');
}

/** The mnemonic of an instruction text ("lock add dword ptr [..], 1" -> "lock add"). */
export function mnemonic(text: string): string {
  const w = text.split(/\s+/);
  let i = 0;
  const pre: string[] = [];
  while (['lock', 'rep', 'repe', 'repne', 'addr32'].includes(w[i])) pre.push(w[i++]);
  return [...pre, w[i] ?? ''].join(' ');
}

export function caseLine(gc: GenCase): string {
  return JSON.stringify(gc.exec);
}

export function listing(meta: CaseMeta, stopOff?: number): string {
  return meta.listing.map((l) => `  ${l.off === stopOff ? '>>' : '  '}${String(l.off).padStart(5)}  ${l.tag.padEnd(12)} ${l.text}`).join('\n');
}
