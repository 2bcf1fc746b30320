// SSE2/MMX pack, unpack and shuffle (SDM Vol. 1 9.4.6 "Conversion Instructions", 9.4.9 "Unpack",
// 11.4.3; Vol. 2B PACKSSWB/PACKSSDW, PACKUSWB, PUNPCKHBW/HWD/HDQ/HQDQ, PUNPCKLBW/LWD/LDQ/LQDQ,
// PSHUFD, PSHUFHW, PSHUFLW, PSHUFW): lanes move across the quadwords, so the result is built in
// RES and then copied over the destination (which may also be the source). The MMX PUNPCKLxx
// forms read only an m32 source (Vol. 2B PUNPCKLBW "PUNPCKLBW mm, mm/m32").
import { D_IMM } from "../../decode/entry";
import { MP_NONE, MP_66, MP_F3 } from "../../decode/prefix";
import { SSE_TMP } from "../../layout";
import { ea } from "../../operand";
import { readMem } from "../../mmu";
import { stop } from "../../fault";
import { sseUsable } from "../avail";
import { xmmG, srcE, rmIsMem } from "../operand";
import { mmxAddr, mmxEnter, mmxWrote } from "../../x87/mmx";
import { opcode, mprefix, mmReg, mmRm, mmxUsable, stageOperands, opD, opS, RES } from "./operands";

@inline function satS8(v: i32): u8 { return <u8>(v > 127 ? 127 : v < -128 ? -128 : v); }
@inline function satU8(v: i32): u8 { return <u8>(v > 255 ? 255 : v < 0 ? 0 : v); }
@inline function satS16(v: i32): u16 { return <u16>(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }

/** Copies one `es`-byte element. */
@inline function el(dst: usize, src: usize, es: usize): void {
  if (es == 1) store<u8>(dst, load<u8>(src));
  else if (es == 2) store<u16>(dst, load<u16>(src));
  else if (es == 4) store<u32>(dst, load<u32>(src));
  else store<u64>(dst, load<u64>(src));
}

/** PSHUFW/PSHUFD/PSHUFHW/PSHUFLW (0F 70 by prefix) into RES from the source at `s`. */
function pshuf(mp: u32, s: usize, imm: u32): void {
  if (mp == MP_66) { // PSHUFD
    for (let i: u32 = 0; i < 4; i++) store<u32>(RES + (<usize>i << 2), load<u32>(s + (<usize>((imm >> (2 * i)) & 3) << 2)));
    return;
  }
  // PSHUFW (none) and PSHUFLW (F2) shuffle the words of the low quadword, PSHUFHW (F3) of the high one.
  const base: usize = mp == MP_F3 ? 8 : 0;
  for (let i: u32 = 0; i < 4; i++) store<u16>(RES + base + (<usize>i << 1), load<u16>(s + base + (<usize>((imm >> (2 * i)) & 3) << 1)));
  if (mp != MP_NONE) store<u64>(RES + (8 - base), load<u64>(s + (8 - base)));
}

/** Executes an OP_SSE_PACK instruction. */
export function execPack(e: usize): void {
  const b = opcode(e), mp = mprefix(e);
  if (b == 0x70) {
    const imm = <u32>load<u64>(e, D_IMM);
    if (mp == MP_NONE) {
      if (!mmxUsable()) return;
      const mem = rmIsMem(e);
      if (mem) { const v = readMem(ea(e), 8); if (stop) return; store<u64>(SSE_TMP, v); }
      mmxEnter();
      pshuf(mp, mem ? SSE_TMP : mmxAddr(mmRm(e)), imm);
      const r = mmReg(e);
      store<u64>(mmxAddr(r), load<u64>(RES)); mmxWrote(r);
      return;
    }
    if (!sseUsable()) return;
    const s = srcE(e, 16, true); if (stop) return;
    pshuf(mp, s, imm);
    const d = xmmG(e);
    store<u64>(d, load<u64>(RES)); store<u64>(d, load<u64>(RES, 8), 8);
    return;
  }
  const low = b <= 0x62; // PUNPCKLBW/WD/DQ: the MMX form reads m32
  const w = stageOperands(e, low ? 4 : 8); if (w == 0) return;
  const d = opD, s = opS;
  const nw = <usize>w;
  switch (b) {
    case 0x63: { // PACKSSWB
      const n = nw >> 1;
      for (let i: usize = 0; i < n; i++) {
        store<u8>(RES + i, satS8(<i32>load<i16>(d + (i << 1))));
        store<u8>(RES + n + i, satS8(<i32>load<i16>(s + (i << 1))));
      }
      break;
    }
    case 0x67: { // PACKUSWB
      const n = nw >> 1;
      for (let i: usize = 0; i < n; i++) {
        store<u8>(RES + i, satU8(<i32>load<i16>(d + (i << 1))));
        store<u8>(RES + n + i, satU8(<i32>load<i16>(s + (i << 1))));
      }
      break;
    }
    case 0x6b: { // PACKSSDW
      const n = nw >> 2;
      for (let i: usize = 0; i < n; i++) {
        store<u16>(RES + (i << 1), satS16(load<i32>(d + (i << 2))));
        store<u16>(RES + ((n + i) << 1), satS16(load<i32>(s + (i << 2))));
      }
      break;
    }
    default: { // PUNPCKL (60-62, 6C) / PUNPCKH (68-6A, 6D): interleave the low or high halves
      const es: usize = b == 0x6c || b == 0x6d ? 8 : <usize>1 << <usize>(b & 3);
      const half = nw >> 1;
      const base: usize = b >= 0x68 && b != 0x6c ? half : 0;
      for (let i: usize = 0; i < half; i += es) {
        el(RES + (i << 1), d + base + i, es);
        el(RES + (i << 1) + es, s + base + i, es);
      }
    }
  }
  store<u64>(d, load<u64>(RES));
  if (w == 16) store<u64>(d, load<u64>(RES, 8), 8);
  else mmxWrote(mmReg(e));
}
