// SSE2/MMX packed shifts (SDM Vol. 1 9.4.7 "Shift Instructions"; Vol. 2B PSLLW/PSLLD/PSLLQ,
// PSRAW/PSRAD, PSRLW/PSRLD/PSRLQ, PSLLDQ, PSRLDQ): the count is the whole low quadword of the
// source register or memory operand (m64 for MMX, an aligned m128 for SSE2) as an unsigned number,
// or an imm8 (the 0F 71/72/73 groups, whose ModRM.rm is the destination register). A logical shift
// by more than the lane width minus one clears the lane; an arithmetic one fills it with the sign.
// PSLLDQ/PSRLDQ shift the whole XMM register by imm8 bytes (more than 15 clears it).
import { D_IMM, D_SUB } from "../../decode/entry";
import { MP_NONE } from "../../decode/prefix";
import { sseUsable } from "../avail";
import { xmmE } from "../operand";
import { mmxAddr, mmxEnter, mmxWrote } from "../../x87/mmx";
import { opcode, mprefix, mmReg, mmRm, mmxUsable, stageOperands, opD, opS, RES } from "./operands";

/** One quadword shifted lane-wise; `k` is the register-count opcode (D1-D3, E1-E2, F1-F3). */
function shift64(k: u32, v: u64, count: u64): u64 {
  const bits: u64 = <u64>8 << <u64>(k & 3); // D1 W=16, D2 D=32, D3 Q=64
  const arith = (k & 0xf0) == 0xe0;
  const left = (k & 0xf0) == 0xf0;
  if (count >= bits) {
    if (!arith) return 0;
    count = bits - 1;
  }
  if (bits == 64) return left ? v << count : v >> count;
  const m: u64 = bits == 32 ? 0xffffffff : 0xffff;
  const sh: u64 = 64 - bits;
  let r: u64 = 0;
  for (let i: u64 = 0; i < 64; i += bits) {
    const x = (v >> i) & m;
    let y: u64;
    if (left) y = (x << count) & m;
    else if (arith) y = <u64>((<i64>(x << sh) >> sh) >> <i64>count) & m;
    else y = x >> count;
    r |= y << i;
  }
  return r;
}

/** PSLLDQ (left) / PSRLDQ: the XMM register at `x` shifted by `n` bytes. */
function shiftBytes(x: usize, n: u32, left: bool): void {
  for (let i: u32 = 0; i < 16; i++) {
    const j = left ? <i32>i - <i32>n : <i32>i + <i32>n;
    store<u8>(RES + <usize>i, j >= 0 && j < 16 ? load<u8>(x + <usize>j) : 0);
  }
  store<u64>(x, load<u64>(RES)); store<u64>(x, load<u64>(RES, 8), 8);
}

/** Executes an OP_SSE_ISHIFT instruction. */
export function execShift(e: usize): void {
  const b = opcode(e);
  if (b >= 0x71 && b <= 0x73) {
    // Group 12/13/14 (SDM Vol. 2D Table A-6): /2 PSRL, /4 PSRA, /6 PSLL, 66 /3 PSRLDQ, 66 /7 PSLLDQ.
    const d = <u32>load<u8>(e, D_SUB);
    const count = load<u64>(e, D_IMM);
    const k = (d == 2 ? 0xd0 : d == 4 ? 0xe0 : 0xf0) + (b - 0x70);
    if (mprefix(e) == MP_NONE) {
      if (!mmxUsable()) return;
      mmxEnter();
      const r = mmRm(e), p = mmxAddr(r);
      store<u64>(p, shift64(k, load<u64>(p), count));
      mmxWrote(r);
      return;
    }
    if (!sseUsable()) return;
    const x = xmmE(e);
    if (d == 3 || d == 7) { shiftBytes(x, count > 16 ? 16 : <u32>count, d == 7); return; }
    store<u64>(x, shift64(k, load<u64>(x), count));
    store<u64>(x, shift64(k, load<u64>(x, 8), count), 8);
    return;
  }
  const w = stageOperands(e, 8); if (w == 0) return;
  const count = load<u64>(opS);
  store<u64>(opD, shift64(b, load<u64>(opD), count));
  if (w == 16) store<u64>(opD, shift64(b, load<u64>(opD, 8), count), 8);
  else mmxWrote(mmReg(e));
}
