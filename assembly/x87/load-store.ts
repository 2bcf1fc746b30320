// x87 data transfer (SDM Vol. 1 8.3.3 "Data Transfer Instructions", 8.3.5 "Load Constant
// Instructions"; Vol. 2A FLD, FILD, FBLD, FLD1/FLDL2T/FLDL2E/FLDPI/FLDLG2/FLDLN2/FLDZ, FST/FSTP,
// FIST/FISTP, FBSTP): loads convert exactly to the extended format (DE for a single/double denormal,
// IE for an SNaN; m80 is loaded as is), stores round by FCW.RC (never by the precision control) with
// C1 = rounded up; an empty source is stack underflow, a full ST(7) stack overflow (8.5.1.1), and
// with IE masked the QNaN / integer / BCD indefinite takes the result's place (Table 4-3, 8.2.3).
import { D_SUB } from "../decode/entry";
import { ea } from "../operand";
import { readMem, writeMem } from "../mmu";
import { stop } from "../fault";
import { rTiny } from "../softfloat/round";
import { SF_UNDERFLOW } from "../softfloat/status";
import { sfFlags, sfRound, sfRaise, sfClear, SF_RN, SF_RU, SF_INVALID } from "../softfloat/status";
import { f80FromF32, f80FromF64, f80FromInt, f80ToF32, f80ToF64, f80ToInt, f80Se, f80Sig, intResult, J, BIAS } from "../softfloat/f80";
import { fcw, fpBegin, fpBeginNoWrap, fpFlags, fpFlagsMem, fpRoundedC1, setC1, stEmpty, stSe, stSig, setSt, push, pop, stackUnderflow, stackOverflowPush, QNAN_SE, QNAN_SIG } from "./stack";
import { readM80, writeM80, m80Se, probeWrite } from "./memory";
import { bcdToInt, intToBcd, bcdHi } from "./bcd";

/** Pushes a loaded value after the stack-overflow check (C1 = 0 unless overflow). */
function pushChecked(se: u32, sig: u64, flags: u32): void {
  if (!stEmpty(7)) { stackOverflowPush(); return; }
  fpFlags(flags);
  // an unmasked IE (SNaN source) stops the load; an unmasked DE does not (the host pushes the value)
  setC1(false);
  if ((flags & ~fcw() & SF_INVALID) != 0) return;
  push(se, sig);
}

// The load-constant values (SDM Vol. 1 8.3.5; 8.3.8: the processor rounds its internal constants
// by RC): significand truncated to 64 bits and whether the rest is above one half of an ulp.
function pushConstant(se: u32, sig: u64, above: bool): void {
  let s = sig;
  if (sfRound == SF_RU || (sfRound == SF_RN && above)) s++;
  pushChecked(se, s, 0);
}

/** FLD/FILD/FBLD and the constants (OP_X87_LOAD). */
export function x87Load(e: usize, esc: u32, m: u32): void {
  const x = esc & 7, d = (m >> 3) & 7;
  fpBegin();
  if ((m >> 6) == 3) {
    switch (m) {
      case 0xe8: pushChecked(BIAS, J, 0); return;                            // FLD1
      case 0xe9: pushConstant(0x4000, 0xd49a784bcd1b8afe, false); return;    // FLDL2T
      case 0xea: pushConstant(0x3fff, 0xb8aa3b295c17f0bb, true); return;     // FLDL2E
      case 0xeb: pushConstant(0x4000, 0xc90fdaa22168c234, true); return;     // FLDPI
      case 0xec: pushConstant(0x3ffd, 0x9a209a84fbcff798, true); return;     // FLDLG2
      case 0xed: pushConstant(0x3ffe, 0xb17217f7d1cf79ab, true); return;     // FLDLN2
      case 0xee: pushChecked(0, 0, 0); return;                               // FLDZ
    }
    // FLD ST(i)
    const i = m & 7;
    if (stEmpty(i)) { // underflow is checked before overflow (C1 = 0 when both, as the host)
      if (stackUnderflow()) push(QNAN_SE, QNAN_SIG);
      return;
    }
    if (!stEmpty(7)) { stackOverflowPush(); return; }
    const se = stSe(i), sig = stSig(i);
    setC1(false); push(se, sig);
    return;
  }
  const la = ea(e);
  if (x == 1) { const v = <u32>readMem(la, 4); if (stop) return; f80FromF32(v); pushChecked(f80Se, f80Sig, sfFlags); return; }
  if (x == 5) { const v = readMem(la, 8); if (stop) return; f80FromF64(v); pushChecked(f80Se, f80Sig, sfFlags); return; }
  if (x == 3 && d == 5) { const sig = readM80(la); if (stop) return; pushChecked(m80Se, sig, 0); return; }
  if (x == 3) { const v = readMem(la, 4); if (stop) return; f80FromInt(<i64><i32><u32>v); pushChecked(f80Se, f80Sig, 0); return; }
  // DF
  if (d == 0) { const v = readMem(la, 2); if (stop) return; f80FromInt(<i64><i16><u16>v); pushChecked(f80Se, f80Sig, 0); return; }
  if (d == 5) { const v = readMem(la, 8); if (stop) return; f80FromInt(<i64>v); pushChecked(f80Se, f80Sig, 0); return; }
  // FBLD
  const lo = readMem(la, 8); if (stop) return;
  const hi = <u32>readMem(la + 8, 2); if (stop) return;
  const v = bcdToInt(lo, hi & 0xff);
  f80FromInt(<i64>v);
  pushChecked(f80Se | ((hi & 0x8000) != 0 ? 0x8000 : 0), f80Sig, 0);
}

/** FST/FSTP/FIST/FISTP/FBSTP (OP_X87_STORE). */
export function x87Store(e: usize, esc: u32, m: u32): void {
  const x = esc & 7, d = (m >> 3) & 7;
  if ((m >> 6) == 3) {
    // FST ST(i) (DD D0+i), FSTP ST(i) (DD D8+i and the aliases D9 D8+i, DF D0+i, DF D8+i)
    const i = m & 7;
    const popAfter = !(x == 5 && d == 2);
    if (stEmpty(0)) {
      // D9 D8+i (the undocumented alias, "FSTPNCE") checks nothing: it pops. The others are stack
      // underflow, with the QNaN indefinite stored when IE is masked.
      if (x != 1) {
        if (!stackUnderflow()) return;
        setSt(i, QNAN_SE, QNAN_SIG);
      } else setC1(false);
    } else {
      setC1(false);
      setSt(i, stSe(0), stSig(0));
    }
    if (popAfter) pop();
    return;
  }
  const la = ea(e);
  // kind: 0 m32 real, 1 m64 real, 2 m80, 3 m16 int, 4 m32 int, 5 m64 int, 6 BCD
  let kind = 0, popAfter = false;
  if (x == 1) { kind = 0; popAfter = d == 3; }
  else if (x == 5) { kind = 1; popAfter = d == 3; }
  else if (x == 3) { if (d == 7) { kind = 2; popAfter = true; } else { kind = 4; popAfter = d == 3; } }
  else { // DF
    if (d == 6) { kind = 6; popAfter = true; }
    else if (d == 7) { kind = 5; popAfter = true; }
    else { kind = 3; popAfter = d == 3; }
  }
  const bytes: u32 = kind == 0 || kind == 4 ? 4 : kind == 1 || kind == 5 ? 8 : kind == 3 ? 2 : 10;
  if (!probeWrite(la, bytes)) return;
  fpBeginNoWrap();
  let v: u64 = 0, vhi: u32 = 0, flags: u32 = 0;
  if (stEmpty(0)) {
    if (!stackUnderflow()) return;
    // the masked response: the indefinite of the destination format
    switch (kind) {
      case 0: v = 0xffc00000; break;
      case 1: v = 0xfff8000000000000; break;
      case 2: v = QNAN_SIG; vhi = QNAN_SE; break;
      case 3: v = 0x8000; break;
      case 4: v = 0x80000000; break;
      case 5: v = 0x8000000000000000; break;
      default: vhi = 0xffff; v = 0xc000000000000000; break;
    }
  } else {
    const se = stSe(0), sig = stSig(0);
    switch (kind) {
      case 0: v = <u64>f80ToF32(se, sig); break;
      case 1: v = f80ToF64(se, sig); break;
      case 2: v = sig; vhi = se; break;
      case 6: {
        if (!f80ToInt(se, sig, 64) || (intResult < 0 ? <u64>0 - <u64>intResult : <u64>intResult) > 999999999999999999) {
          sfClear(); sfRaise(SF_INVALID); // IE alone (no PE from the rounding), as the host
          v = 0xc000000000000000; vhi = 0xffff;
        } else {
          v = intToBcd(intResult < 0 ? <u64>0 - <u64>intResult : <u64>intResult);
          vhi = bcdHi | ((se & 0x8000) != 0 ? 0x8000 : 0);
        }
        break;
      }
      default: {
        const bits = kind == 3 ? 16 : kind == 4 ? 32 : 64;
        if (f80ToInt(se, sig, bits)) v = <u64>intResult;
        else v = kind == 3 ? 0x8000 : kind == 4 ? 0x80000000 : 0x8000000000000000;
      }
    }
    flags = sfFlags;
    // an unmasked underflow is reported for a tiny result even when exact (SDM Vol. 1 8.5.5)
    if ((kind == 0 || kind == 1) && rTiny && (fcw() & SF_UNDERFLOW) == 0) flags |= SF_UNDERFLOW;
    if (!fpFlagsMem(flags)) { setC1(false); return; } // nothing stored; C1 cleared (the host)
    fpRoundedC1(flags);
  }
  switch (bytes) {
    case 10: writeM80(la, vhi, v); break;
    default: writeMem(la, <i32>bytes, v);
  }
  if (stop) return;
  if (popAfter) pop();
}
