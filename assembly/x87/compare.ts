// x87 comparison and classification (SDM Vol. 1 8.1.4 "Branching and Conditional Moves on
// Condition Codes", 8.3.7 "Comparison and Classification Instructions", Tables 8-6 and 8-7; Vol. 2A
// FCOM/FCOMP/FCOMPP, FUCOM/FUCOMP/FUCOMPP, FICOM/FICOMP, FCOMI/FCOMIP/FUCOMI/FUCOMIP, FTST, FXAM).
// C3 C2 C0 (or ZF PF CF): greater 000, less 001, equal 100, unordered 111; C1 = 0. FCOM* raise IE
// for any NaN, FUCOM* only for an SNaN; both for unsupported operands. The condition codes are set
// even when IE is unmasked; the pops happen only without an unmasked exception.
import { ea } from "../operand";
import { readMem } from "../mmu";
import { stop } from "../fault";
import { sfFlags, sfRaise, SF_DENORMAL } from "../softfloat/status";
import { f80Compare, f80FromF32, f80FromF64, f80FromInt, f80Se, f80Sig, isNaN80, isInf80, isZero80, isDenormal80, isUnsupported80 } from "../softfloat/f80";
import { fpBegin, fpFlags, setCC, setC1, stEmpty, stSe, stSig, pop, stackUnderflow, FSW_IE, fcw } from "./stack";
import { materialize, rflagsRest } from "../flags";
import { F_CF, F_PF, F_ZF, F_OF, F_SF, F_AF } from "../state";

// compare result (f80Compare: 0 equal, 1 less, 2 greater, 3 unordered) -> C3 C2 C1 C0 (setCC bits)
@inline function ccOf(r: i32): u32 { return r == 0 ? 8 : r == 1 ? 1 : r == 2 ? 0 : 13; }

/** Sets ZF PF CF from a compare result, clears OF SF AF (FCOMI). */
function setEflags(r: i32): void {
  materialize();
  let f = rflagsRest & ~(<u64>(F_CF | F_PF | F_ZF | F_OF | F_SF | F_AF));
  if (r == 0) f |= F_ZF;
  else if (r == 1) f |= F_CF;
  else if (r == 3) f |= F_ZF | F_PF | F_CF;
  rflagsRest = f;
}

/** OP_X87_CMP. */
export function x87Compare(e: usize, esc: u32, m: u32): void {
  const x = esc & 7, d = (m >> 3) & 7;
  fpBegin();
  if ((m >> 6) != 3) {
    // D8/DC/DA/DE /2 FCOM(FICOM), /3 FCOMP(FICOMP)
    const la = ea(e);
    switch (x) {
      case 0: { const v = <u32>readMem(la, 4); if (stop) return; f80FromF32(v, true); break; }
      case 4: { const v = readMem(la, 8); if (stop) return; f80FromF64(v, true); break; }
      case 2: { const v = readMem(la, 4); if (stop) return; f80FromInt(<i64><i32><u32>v); break; }
      default: { const v = readMem(la, 2); if (stop) return; f80FromInt(<i64><i16><u16>v); break; }
    }
    const ys = f80Se, ym = f80Sig;
    const convDE = sfFlags & SF_DENORMAL;
    fpBegin();
    const popN = d == 3 ? 1 : 0;
    if (stEmpty(0)) { underflowCC(popN); return; }
    const xs = stSe(0), xm = stSig(0);
    if (convDE != 0 && !isNaN80(ys, ym) && !isNaN80(xs, xm) && !isUnsupported80(xs, xm)) sfRaise(SF_DENORMAL);
    const r = f80Compare(xs, xm, ys, ym, false);
    finish(r, popN, false);
    return;
  }
  if (x == 1) { // FTST, FXAM
    if (m == 0xe5) { fxam(); return; }
    if (stEmpty(0)) { underflowCC(0); return; }
    finish(f80Compare(stSe(0), stSig(0), 0, 0, false), 0, false);
    return;
  }
  const i = m & 7;
  let popN = 0, quiet = false, eflags = false;
  switch (x) {
    case 0: case 4: popN = d == 3 ? 1 : 0; break;            // FCOM, FCOMP (and the DC aliases)
    case 2: popN = 2; quiet = true; break;                     // DA E9 FUCOMPP
    case 3: eflags = true; quiet = d == 5; break;              // DB E8 FUCOMI, F0 FCOMI
    case 5: popN = d == 5 ? 1 : 0; quiet = true; break;        // DD E0 FUCOM, E8 FUCOMP
    case 6: popN = d == 3 ? 2 : 1; break;                      // DE D9 FCOMPP, DE D0+i alias FCOMP
    default: eflags = true; quiet = d == 5; popN = 1; break;   // DF E8 FUCOMIP, F0 FCOMIP
  }
  if (stEmpty(0) || stEmpty(i)) {
    if (eflags) {
      const masked = stackUnderflow();
      setEflags(3);
      if (masked && popN != 0) pop();
      return;
    }
    underflowCC(popN); return;
  }
  const r = f80Compare(stSe(0), stSig(0), stSe(i), stSig(i), quiet);
  finish(r, popN, eflags);
}

function underflowCC(popN: i32): void {
  const masked = stackUnderflow();
  setCC(13);
  if (!masked) return;
  for (let k = 0; k < popN; k++) pop();
}

function finish(r: i32, popN: i32, eflags: bool): void {
  const flags = sfFlags;
  const ok = fpFlags(flags);
  if (eflags) setEflags(r); // FCOMI leaves C1 as it was (the host)
  else setCC(ccOf(r));
  if (!ok) return;
  for (let k = 0; k < popN; k++) pop();
}

/** FXAM (SDM Vol. 2A FXAM, its class table): C3 C2 C0 class, C1 sign; an empty register reads "empty". */
function fxam(): void {
  const se = stSe(0), sig = stSig(0);
  const c1: u32 = (se & 0x8000) != 0 ? 2 : 0;
  let c: u32;
  if (stEmpty(0)) c = 9;                           // C3 C0: empty
  else if (isUnsupported80(se, sig)) c = 0;        // unsupported
  else if (isNaN80(se, sig)) c = 1;                // C0: NaN
  else if (isInf80(se, sig)) c = 5;                // C2 C0: infinity
  else if (isZero80(se, sig)) c = 8;               // C3: zero
  else if (isDenormal80(se, sig)) c = 12;          // C3 C2: denormal
  else c = 4;                                      // C2: normal
  setCC(c | c1);
}
