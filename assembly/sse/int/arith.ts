// SSE2/MMX packed integer arithmetic (SDM Vol. 1 9.4.4 "Arithmetic Instructions", 11.4.3; the
// instruction pages of Vol. 2B/2C): PADD/PSUB B/W/D/Q (wraparound), PADDS/PSUBS B/W (signed
// saturation), PADDUS/PSUBUS B/W (unsigned saturation), PMULLW/PMULHW/PMULHUW, PMULUDQ, PMADDWD,
// PSADBW, PAVGB/PAVGW, PMINUB/PMAXUB, PMINSW/PMAXSW. Every one works within 64-bit halves, so
// a 128-bit operation is two calls of `arith64` on the low and high quadwords.

const H8: u64 = 0x8080808080808080;
const H16: u64 = 0x8000800080008000;
const H32: u64 = 0x8000000080000000;

/** Lane-wise a + b modulo the lane width (H = the lanes' sign bits). */
@inline function addLanes(a: u64, b: u64, H: u64): u64 { return ((a & ~H) + (b & ~H)) ^ ((a ^ b) & H); }
/** Lane-wise a - b modulo the lane width. */
@inline function subLanes(a: u64, b: u64, H: u64): u64 { return ((a | H) - (b & ~H)) ^ ((a ^ ~b) & H); }

@inline function satS8(v: i32): u64 { return <u64>(<u8>(v > 127 ? 127 : v < -128 ? -128 : v)); }
@inline function satU8(v: i32): u64 { return <u64>(v > 255 ? 255 : v < 0 ? 0 : v); }
@inline function satS16(v: i32): u64 { return <u64>(<u16>(v > 32767 ? 32767 : v < -32768 ? -32768 : v)); }
@inline function satU16(v: i32): u64 { return <u64>(v > 65535 ? 65535 : v < 0 ? 0 : v); }

/** Byte lanes: `k` selects the operation. */
function bytes(k: u32, a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 64; i += 8) {
    const x = <i32>((a >> i) & 0xff), y = <i32>((b >> i) & 0xff);
    const sx = <i32><i8>x, sy = <i32><i8>y;
    let v: u64 = 0;
    switch (k) {
      case 0xec: v = satS8(sx + sy); break;          // PADDSB
      case 0xe8: v = satS8(sx - sy); break;          // PSUBSB
      case 0xdc: v = satU8(x + y); break;            // PADDUSB
      case 0xd8: v = satU8(x - y); break;            // PSUBUSB
      case 0xe0: v = <u64>((x + y + 1) >> 1); break; // PAVGB
      case 0xda: v = <u64>(x < y ? x : y); break;    // PMINUB
      case 0xde: v = <u64>(x > y ? x : y); break;    // PMAXUB
    }
    r |= v << i;
  }
  return r;
}

/** Word lanes. */
function words(k: u32, a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 64; i += 16) {
    const x = <i32>((a >> i) & 0xffff), y = <i32>((b >> i) & 0xffff);
    const sx = <i32><i16>x, sy = <i32><i16>y;
    let v: u64 = 0;
    switch (k) {
      case 0xed: v = satS16(sx + sy); break;                    // PADDSW
      case 0xe9: v = satS16(sx - sy); break;                    // PSUBSW
      case 0xdd: v = satU16(x + y); break;                      // PADDUSW
      case 0xd9: v = satU16(x - y); break;                      // PSUBUSW
      case 0xd5: v = <u64>(<u32>(sx * sy) & 0xffff); break;     // PMULLW
      case 0xe5: v = <u64>(<u32>(sx * sy) >>> 16); break;       // PMULHW
      case 0xe4: v = <u64>(<u32>(x * y) >>> 16); break;         // PMULHUW
      case 0xe3: v = <u64>((x + y + 1) >> 1); break;            // PAVGW
      case 0xea: v = <u64>(<u16>(sx < sy ? sx : sy)); break;    // PMINSW
      case 0xee: v = <u64>(<u16>(sx > sy ? sx : sy)); break;    // PMAXSW
    }
    r |= v << i;
  }
  return r;
}

/** PMADDWD: each doubleword = the sum of two signed word products (0x8000*0x8000 twice wraps to 0x80000000). */
function pmaddwd(a: u64, b: u64): u64 {
  let r: u64 = 0;
  for (let i: u64 = 0; i < 64; i += 32) {
    const p0 = <i64><i16>(a >> i) * <i64><i16>(b >> i);
    const p1 = <i64><i16>(a >> (i + 16)) * <i64><i16>(b >> (i + 16));
    r |= <u64>(<u32>(p0 + p1)) << i;
  }
  return r;
}

/** PSADBW: the sum of the eight absolute byte differences in the low word, zeros above. */
function psadbw(a: u64, b: u64): u64 {
  let s: i32 = 0;
  for (let i: u64 = 0; i < 64; i += 8) {
    const d = <i32>((a >> i) & 0xff) - <i32>((b >> i) & 0xff);
    s += d < 0 ? -d : d;
  }
  return <u64>s;
}

/** One quadword of the arithmetic operation with opcode `k` (0F k): destination `a`, source `b`. */
export function arith64(k: u32, a: u64, b: u64): u64 {
  switch (k) {
    case 0xfc: return addLanes(a, b, H8);                  // PADDB
    case 0xfd: return addLanes(a, b, H16);                 // PADDW
    case 0xfe: return addLanes(a, b, H32);                 // PADDD
    case 0xd4: return a + b;                               // PADDQ
    case 0xf8: return subLanes(a, b, H8);                  // PSUBB
    case 0xf9: return subLanes(a, b, H16);                 // PSUBW
    case 0xfa: return subLanes(a, b, H32);                 // PSUBD
    case 0xfb: return a - b;                               // PSUBQ
    case 0xf4: return (a & 0xffffffff) * (b & 0xffffffff); // PMULUDQ
    case 0xf5: return pmaddwd(a, b);
    case 0xf6: return psadbw(a, b);
    case 0xec: case 0xe8: case 0xdc: case 0xd8: case 0xe0: case 0xda: case 0xde:
      return bytes(k, a, b);
  }
  return words(k, a, b);
}
