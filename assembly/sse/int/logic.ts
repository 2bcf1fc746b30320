// SSE2/MMX packed comparisons and bitwise logic (SDM Vol. 1 9.4.5 "Comparison Instructions", 9.4.8
// "Logical Instructions"; Vol. 2B PCMPEQB/PCMPEQW/PCMPEQD, PCMPGTB/PCMPGTW/PCMPGTD (signed),
// PAND, PANDN, POR, PXOR): each lane of the result is all ones or all zeros, or the bitwise result;
// no flags change. Quadword-local, as arith.ts.

/** Lane mask of `w`-byte lanes: all ones where `cond` holds for lane i. */
function cmpLanes(k: u32, a: u64, b: u64): u64 {
  // k: 0x74/0x75/0x76 PCMPEQB/W/D, 0x64/0x65/0x66 PCMPGTB/W/D.
  const bits: u64 = <u64>8 << <u64>(k & 3); // 8, 16, 32
  const m: u64 = bits == 32 ? 0xffffffff : (<u64>1 << bits) - 1;
  const sh: u64 = 64 - bits;
  let r: u64 = 0;
  for (let i: u64 = 0; i < 64; i += bits) {
    let t: bool;
    if (k >= 0x74) t = ((a >> i) & m) == ((b >> i) & m);
    else t = (<i64>((a >> i) << sh) >> sh) > (<i64>((b >> i) << sh) >> sh);
    if (t) r |= m << i;
  }
  return r;
}

/** One quadword of the comparison or logical operation with opcode `k` (0F k). */
export function logic64(k: u32, a: u64, b: u64): u64 {
  switch (k) {
    case 0xdb: return a & b;   // PAND
    case 0xdf: return ~a & b;  // PANDN
    case 0xeb: return a | b;   // POR
    case 0xef: return a ^ b;   // PXOR
  }
  return cmpLanes(k, a, b);
}

/** Both quadwords of an XMM compare/logic operation, destination `d`, source `s` (Wasm addresses). */
export function logic128(k: u32, d: usize, s: usize): void {
  const a0 = load<u64>(d), a1 = load<u64>(d, 8), b0 = load<u64>(s), b1 = load<u64>(s, 8);
  switch (k) {
    case 0xdb: store<u64>(d, a0 & b0); store<u64>(d, a1 & b1, 8); return;
    case 0xdf: store<u64>(d, ~a0 & b0); store<u64>(d, ~a1 & b1, 8); return;
    case 0xeb: store<u64>(d, a0 | b0); store<u64>(d, a1 | b1, 8); return;
    case 0xef: store<u64>(d, a0 ^ b0); store<u64>(d, a1 ^ b1, 8); return;
  }
  store<u64>(d, cmpLanes(k, a0, b0)); store<u64>(d, cmpLanes(k, a1, b1), 8);
}
