// The debugger's argument parsing and its error type, shared by the commands and the gdb stub.
// The number formatters themselves live in src/util/format.ts.
import { parseCount } from '../util/format.js';

// registers.ts reads hex from here (its imports are another change's to edit).
export { hex } from '../util/format.js';

/** Thrown for a bad command or argument: the console prints the message, never a stack trace. */
export class DebugError extends Error {}

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

/** A command's count argument ("step 10k"): positive, k/M/G suffixes, underscores as separators, at most `max`. */
export function parseCountArg(text: string, what = 'count', max = 1n << 48n): bigint {
  return parseCount(text.replace(/_/g, ''), (p) => new DebugError(
    p === 'syntax' ? `"${text}" is not a ${what} (a positive integer, optionally with k, M or G)`
      : p === 'zero' ? `${what} must be positive, got ${text}` : `${what} ${text} is too large (at most ${max})`), max);
}
