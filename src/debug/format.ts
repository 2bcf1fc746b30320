// Number formatting and parsing shared by the debugger's commands and the gdb stub.

/** Thrown for a bad command or argument: the console prints the message, never a stack trace. */
export class DebugError extends Error {}

export function hex(v: bigint | number): string { return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16); }
/** 0x-prefixed, zero-padded to `digits` hex digits. */
export function hexPad(v: bigint | number, digits = 16): string {
  return '0x' + BigInt.asUintN(64, BigInt(v)).toString(16).padStart(digits, '0');
}
export function bytesHex(b: Uint8Array, sep = ' '): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(sep);
}
/** 1234567 -> "1,234,567". */
export function grouped(v: bigint | number): string { return BigInt(v).toLocaleString('en-US'); }

/**
 * Parses a number the way gdb reads one: 0x... hex, 0b... binary, 0o... octal,
 * otherwise decimal; a trailing "h" is not accepted (ambiguous). Underscores
 * and commas are allowed as separators ("1_000", "1,000" is not: commas split arguments).
 */
export function parseNumber(text: string, what = 'number'): bigint {
  const t = text.trim().replace(/_/g, '');
  let m: RegExpExecArray | null;
  if ((m = /^(-)?0x([0-9a-f]+)$/i.exec(t))) return applySign(BigInt('0x' + m[2]), m[1]);
  if ((m = /^(-)?0b([01]+)$/i.exec(t))) return applySign(BigInt('0b' + m[2]), m[1]);
  if ((m = /^(-)?0o([0-7]+)$/i.exec(t))) return applySign(BigInt('0o' + m[2]), m[1]);
  if ((m = /^(-)?(\d+)$/.exec(t))) return applySign(BigInt(m[2]), m[1]);
  throw new DebugError(`"${text}" is not a ${what} (decimal, or hex with 0x)`);
}
function applySign(v: bigint, neg: string | undefined): bigint { return neg ? BigInt.asUintN(64, -v) : v; }

/** A positive count with an optional k/M/G suffix (powers of 1000). */
export function parseCount(text: string, what = 'count', max = 1n << 48n): bigint {
  const m = /^\s*(\d+)\s*([kKmMgG]?)\s*$/.exec(text.replace(/_/g, ''));
  if (!m) throw new DebugError(`"${text}" is not a ${what} (a positive integer, optionally with k, M or G)`);
  const v = BigInt(m[1]) * { '': 1n, k: 1000n, m: 1000000n, g: 1000000000n }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  if (v <= 0n) throw new DebugError(`${what} must be positive, got ${text}`);
  if (v > max) throw new DebugError(`${what} ${text} is too large (at most ${max})`);
  return v;
}

/** Nanoseconds of virtual time for `cycles` TSC cycles at `tscKhz`. */
export function cyclesToNs(cycles: bigint, tscKhz: number): number { return Number(cycles) * 1e6 / tscKhz; }
export function fmtNs(ns: number): string {
  return ns >= 1e6 ? `${(ns / 1e6).toFixed(3)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(3)} us` : `${Math.round(ns)} ns`;
}
