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

/**
 * An ASCII text buffer that formats without allocating per line (the stub
 * runtime never frees, so a 32768-task listing built from strings would not
 * fit in a program's memory): append, then write it out with writeTo.
 */
export class TextBuf {
  bytes: Uint8Array = new Uint8Array(4096);
  length: i32 = 0;

  reset(): void { this.length = 0; }

  private room(n: i32): void {
    if (this.length + n <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < this.length + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.bytes.subarray(0, this.length));
    this.bytes = b;
  }

  /** A string of ASCII characters (code points past 0x7f are written as '?'). */
  ascii(s: string): TextBuf {
    const n = s.length;
    this.room(n);
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      unchecked(this.bytes[this.length + i] = <u8>(c < 0x80 ? c : 0x3f));
    }
    this.length += n;
    return this;
  }

  /** `n` bytes of `src`. */
  raw(src: Uint8Array, n: i32): TextBuf {
    this.room(n);
    for (let i = 0; i < n; i++) unchecked(this.bytes[this.length + i] = src[i]);
    this.length += n;
    return this;
  }

  /** %<width>u */
  dec(v: u64, width: i32 = 0): TextBuf {
    let digits = 1;
    for (let t = v; t >= 10; t /= 10) digits++;
    const pad = width > digits ? width - digits : 0;
    this.room(pad + digits);
    for (let i = 0; i < pad; i++) unchecked(this.bytes[this.length + i] = 0x20);
    this.length += pad + digits;
    let t = v;
    for (let i = 1; i <= digits; i++) { unchecked(this.bytes[this.length - i] = <u8>(0x30 + <i32>(t % 10))); t /= 10; }
    return this;
  }

  /** %lx */
  hex(v: u64): TextBuf {
    let digits = 1;
    for (let t = v; t >= 16; t >>= 4) digits++;
    this.room(digits);
    this.length += digits;
    let t = v;
    for (let i = 1; i <= digits; i++) {
      const d = <i32>(t & 15);
      unchecked(this.bytes[this.length - i] = <u8>(d < 10 ? 0x30 + d : 0x57 + d));
      t >>= 4;
    }
    return this;
  }

  toString(): string { return String.UTF8.decodeUnsafe(this.bytes.dataStart, <usize>this.length); }
}
