// Packed BCD integers (SDM Vol. 1 4.7 "BCD and Packed BCD Integers", Figure 4-9; Vol. 2A FBLD,
// FBSTP): 18 digits in bytes 0-8, two per byte with the less significant digit in the low nibble,
// the sign in bit 7 of byte 9 (bits 0-6 ignored on load, written as zero). Digits above 9 are
// undefined on load (SDM Vol. 2A FBLD); they are weighted as any other digit here.

/** The value of the 18 digits: bytes 0-7 in `lo`, byte 8 in `b8`. */
export function bcdToInt(lo: u64, b8: u32): u64 {
  let v: u64 = <u64>((b8 >> 4) & 15) * 10 + <u64>(b8 & 15);
  for (let i = 7; i >= 0; i--) {
    const b = <u32>(lo >> <u64>(i * 8)) & 0xff;
    v = v * 100 + <u64>((b >> 4) & 15) * 10 + <u64>(b & 15);
  }
  return v;
}

/** Byte 8 of the last intToBcd (digits 17 and 16). */
export let bcdHi: u32 = 0;

/** The packed BCD digits of v < 10^18: bytes 0-7 returned, byte 8 in bcdHi. */
export function intToBcd(v: u64): u64 {
  let lo: u64 = 0;
  for (let i = 0; i < 8; i++) {
    const d0 = v % 10; v /= 10;
    const d1 = v % 10; v /= 10;
    lo |= ((d1 << 4) | d0) << <u64>(i * 8);
  }
  const d0 = <u32>(v % 10), d1 = <u32>((v / 10) % 10);
  bcdHi = (d1 << 4) | d0;
  return lo;
}
