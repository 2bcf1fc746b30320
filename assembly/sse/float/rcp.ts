// RCPPS/RCPSS and RSQRTPS/RSQRTSS (SDM Vol. 2: approximations with |relative error| <= 1.5 * 2^-12,
// "SIMD Floating-Point Exceptions: None"): the host part's values, from rcp-table.ts (generated and
// checked against the host by scripts/gen-sse-rcp-table.mjs). A zero or denormal input (always, not
// only under DAZ) gives an infinity of its sign; a result below the normal range is a zero of its
// sign; a NaN is quieted; RSQRT of a negative number (not -0) is the default QNaN.
import { RCP_TABLE, RSQRT_TABLE } from "./rcp-table";

export function rcp32(x: u32): u32 {
  const s = x & 0x80000000, e = (x >> 23) & 0xff;
  if (e == 0xff) return (x & 0x7fffff) != 0 ? x | 0x400000 : s;
  if (e == 0) return s | 0x7f800000;
  const t = load<u32>(RCP_TABLE + (<usize>((x >> 11) & 0xfff) << 2));
  const re = <i32>(t >> 23) + 127 - <i32>e;
  return re <= 0 ? s : s | (<u32>re << 23) | (t & 0x7fffff);
}

export function rsqrt32(x: u32): u32 {
  const s = x & 0x80000000, e = (x >> 23) & 0xff;
  if (e == 0xff && (x & 0x7fffff) != 0) return x | 0x400000;
  if (e == 0) return s | 0x7f800000;
  if (s != 0) return 0xffc00000;
  if (e == 0xff) return 0;
  const p = e & 1;
  const q = load<u32>(RSQRT_TABLE + (<usize>((p << 12) | ((x >> 11) & 0xfff)) << 2));
  const k = (<i32>e - (p != 0 ? 127 : 126)) >> 1;
  return <u32>(<i32>q - (k << 23));
}
