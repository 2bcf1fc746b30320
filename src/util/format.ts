// Small number formatters and the count parser that the CLI, the hypervisor's log, the debugger,
// `exec` and the benches share: one definition each, so that the same value reads the same
// everywhere (0x-hex wrapped to 64 bits, en-US digit grouping, virtual time in ns/us/ms).

/** 0x-prefixed hex of the value as an unsigned 64-bit number. */
export function hex(v: bigint | number): string { return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16); }

/** 0x-prefixed hex of the whole value, not wrapped: ELF checks print sums of 64-bit fields that may pass 2^64. */
export function hexWide(v: bigint | number): string { return '0x' + BigInt(v).toString(16); }

/** 0x-prefixed, zero-padded to `digits` hex digits. */
export function hexPad(v: bigint | number, digits = 16): string {
  return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(digits, '0');
}

/** Bytes as two-digit hex, "0f 01 d4". */
export function bytesHex(b: Uint8Array, sep = ' '): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(sep);
}

/** 1234567 -> "1,234,567". */
export function grouped(v: bigint | number): string { return BigInt(v).toLocaleString('en-US'); }

/** Nanoseconds of virtual time for `cycles` TSC cycles at `tscKhz`. */
export function cyclesToNs(cycles: bigint, tscKhz: number): number { return Number(cycles) * 1e6 / tscKhz; }

/** A duration in ns with three decimals in the largest fitting unit: "812 ns", "3.237 ms". */
export function fmtNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(3)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(3)} us` : `${Math.round(ns)} ns`;
}

/** The same to three significant digits, for chart labels: "1.25 us". */
export function fmtNsShort(ns: number): string {
  return ns >= 1e6 ? `${+(ns / 1e6).toPrecision(3)} ms` : ns >= 1e3 ? `${+(ns / 1e3).toPrecision(3)} us` : `${+ns.toPrecision(3)} ns`;
}

/** What is wrong with a count, for the caller to word: not digits with an optional suffix, zero, over the maximum. */
export type CountProblem = 'syntax' | 'zero' | 'max';

const COUNT_SUFFIX = { '': 1n, k: 1000n, m: 1000000n, g: 1000000000n };

/**
 * A positive count with an optional k/M/G suffix (powers of 1000): `--max-insns 5M`, `step 10k`.
 * `fail` makes the error in the caller's words (an option error, a debugger error).
 */
export function parseCount(text: string, fail: (problem: CountProblem) => Error, max?: bigint): bigint {
  const m = /^\s*(\d+)\s*([kKmMgG]?)\s*$/.exec(text);
  if (!m) throw fail('syntax');
  const v = BigInt(m[1]) * COUNT_SUFFIX[m[2].toLowerCase() as keyof typeof COUNT_SUFFIX];
  if (v <= 0n) throw fail('zero');
  if (max !== undefined && v > max) throw fail('max');
  return v;
}
