// x87 control instructions and register moves (SDM Vol. 1 8.3.4 "Load Constant"... 8.3.11 "x87 FPU
// Control Instructions", 8.3.3 FXCH/FCMOVcc; Vol. 2A FINIT/FNINIT, FLDCW, FSTCW/FNSTCW, FSTSW/FNSTSW,
// FCLEX/FNCLEX, FFREE, FINCSTP, FDECSTP, FXCH, FCMOVcc, FNOP; FFREEP is the DF C0+i form that AMD
// documents and Intel executes). FLDCW keeps bits 0-5 and 8-12, bit 6 reads as one (what the host
// stores back), and recomputes FSW.ES/B against the new masks, so an exception unmasked by FLDCW is
// raised by the next waiting instruction (SDM Vol. 1 8.7 "Handling x87 FPU Exceptions in Software").
// DB E0 FNENI, E1 FNDISI and E4 FNSETPM are no-ops on every processor since the 80387.
import { ea } from "../operand";
import { readMem, writeMem } from "../mmu";
import { stop } from "../fault";
import { REGS } from "../layout";
import { getCF, getZF, getPF } from "../flags";
import { fxFninit } from "./fxsave";
import { fcw, fsw, setFsw, setC1, setTop, top, stEmpty, stSe, stSig, setSt, freeSt, stackUnderflow, FSW_ES, FSW_B, QNAN_SE, QNAN_SIG } from "./stack";
import { FXSTATE, FX_FCW } from "../layout";

/** FCW as FLDCW/FLDENV store it. */
@inline export function fcwValue(v: u32): u32 { return (v & 0x1f3f) | 0x40; }

/** FSW.ES and B from the exception flags and masks (after FLDCW, FLDENV, FRSTOR). */
export function recomputeEs(): void {
  let s = fsw();
  if ((s & ~fcw() & 0x3f) != 0) s |= FSW_ES | FSW_B; else s &= ~(FSW_ES | FSW_B);
  setFsw(s);
}

/** OP_X87_CTRL. */
export function x87Control(e: usize, esc: u32, m: u32): void {
  const x = esc & 7, d = (m >> 3) & 7;
  if ((m >> 6) != 3) {
    const la = ea(e);
    if (x == 1 && d == 5) { // FLDCW m16
      const v = <u32>readMem(la, 2); if (stop) return;
      store<u16>(FXSTATE + FX_FCW, <u16>fcwValue(v));
      recomputeEs(); return;
    }
    if (x == 1) { writeMem(la, 2, <u64>fcw()); return; } // FNSTCW m16
    writeMem(la, 2, <u64>fsw()); return;                 // DD /7 FNSTSW m16
  }
  const i = m & 7;
  switch (x) {
    case 1:
      if (d == 1) { fxch(i); return; }
      if (m == 0xd0) return;                               // FNOP
      if (m == 0xf6) { setC1(false); setTop(top() - 1); return; } // FDECSTP
      setC1(false); setTop(top() + 1); return;             // FINCSTP
    case 2: case 3: { // FCMOVcc
      let c: bool;
      switch (d & 3) {
        case 0: c = getCF(); break;
        case 1: c = getZF(); break;
        case 2: c = getCF() || getZF(); break;
        default: c = getPF(); break;
      }
      if (x == 3 && d < 4) c = !c;
      if (x == 3 && d >= 4) { dbRow(m); return; }
      if (stEmpty(0) || stEmpty(i)) {
        if (stackUnderflow()) setSt(0, QNAN_SE, QNAN_SIG);
        return;
      }
      if (c) setSt(0, stSe(i), stSig(i)); // C1 unchanged (the host)
      return;
    }
    case 5:
      if (d == 0) { freeSt(i); setC1(false); return; }     // FFREE (C1 cleared, as the host)
      fxch(i); return;                                     // DD C8+i alias
    default: // DF
      if (d == 0) { freeSt(i); freeSt(0); setTop(top() + 1); setC1(false); return; } // FFREEP: FFREE ST(i), then pop
      if (d == 1) { fxch(i); return; }                     // DF C8+i alias
      store<u16>(REGS, <u16>fsw()); return;                // FNSTSW AX
  }
}

/** DB E0-E4: FNENI, FNDISI (no-ops), FNCLEX, FNINIT, FNSETPM (no-op). */
function dbRow(m: u32): void {
  if (m == 0xe2) { setFsw(fsw() & ~<u32>0x80ff); return; }
  if (m == 0xe3) { fxFninit(); return; }
}

/** FXCH ST(i): an empty register reads as the QNaN indefinite when IE is masked (SDM Vol. 2A FXCH). */
function fxch(i: u32): void {
  let s0 = stSe(0), m0 = stSig(0), si = stSe(i), mi = stSig(i);
  if (stEmpty(0) || stEmpty(i)) {
    if (!stackUnderflow()) return;
    if (stEmpty(0)) { s0 = QNAN_SE; m0 = QNAN_SIG; }
    if (stEmpty(i)) { si = QNAN_SE; mi = QNAN_SIG; }
  } else setC1(false);
  setSt(0, si, mi); setSt(i, s0, m0);
}
