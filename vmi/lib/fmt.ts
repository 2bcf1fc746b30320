// printf-style helpers for the VMI programs.

/** %lx */
export function hex(v: u64): string { return v.toString(16); }

/** %.<width>lx (zero-padded) */
export function hexPad(v: u64, width: i32): string { return v.toString(16).padStart(width, "0"); }

/** %<width>d */
export function dec(v: i64, width: i32 = 0): string { return v.toString().padStart(width, " "); }

/** Set by parseU64: whether the last string parsed. */
export let parseOk: bool = false;

/**
 * strtoull-like: base 16 accepts an optional 0x prefix; base 0 picks 16 for a
 * 0x prefix and 10 otherwise. The whole string must be digits.
 */
export function parseU64(s: string, base: i32 = 0): u64 {
  parseOk = false;
  let i = 0;
  const n = s.length;
  if (n >= 2 && s.charCodeAt(0) == 48 && (s.charCodeAt(1) | 32) == 120) {
    if (base == 0) base = 16;
    if (base == 16) i = 2;
  }
  if (base == 0) base = 10;
  if (i >= n) return 0;
  let v: u64 = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    let d: i32;
    if (c >= 48 && c <= 57) d = c - 48;
    else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
    else return 0;
    if (d >= base) return 0;
    v = v * <u64>base + <u64>d;
  }
  parseOk = true;
  return v;
}

/** Parses a decimal int (optionally negative). */
export function parseI32(s: string): i32 {
  const neg = s.length > 0 && s.charCodeAt(0) == 45;
  const v = parseU64(neg ? s.substring(1) : s, 10);
  if (!parseOk || v > 0x7fffffff) { parseOk = false; return 0; }
  return neg ? -<i32>v : <i32>v;
}

/**
 * LibVMI's vmi_print_hex layout: per 16 bytes "%.8x|  ", 8 bytes "%.2x ",
 * " ", 8 more, "  ", then the printable ASCII ('.' for the rest).
 */
export function hexdump(data: Uint8Array, length: i32): string {
  let out = "";
  const rows = (length + 15) >> 4;
  for (let i = 0; i < rows; i++) {
    let line = hexPad(<u64>(i * 16), 8) + "|  ";
    let j = 0;
    for (; j < 8; j++) {
      const idx = i * 16 + j;
      line += idx < length ? hexPad(<u64>data[idx], 2) + " " : "   ";
    }
    line += " ";
    for (; j < 16; j++) {
      const idx = i * 16 + j;
      line += idx < length ? hexPad(<u64>data[idx], 2) + " " : "   ";
    }
    line += "  ";
    for (j = 0; j < 16; j++) {
      const idx = i * 16 + j;
      if (idx < length) {
        const c = data[idx];
        line += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : ".";
      }
    }
    out += line + "\n";
  }
  return out;
}
