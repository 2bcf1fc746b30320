// Fast system calls in IA-32e mode: SYSCALL/SYSRET with STAR, LSTAR and FMASK (SDM Vol. 3A 5.8.8
// and the SYSCALL/SYSRET pages) and SWAPGS with IA32_KERNEL_GS_BASE. SYSRET to compatibility mode
// is not modelled (#UD); CS/SS are loaded with the fixed flat values the manual gives, not from
// the GDT.
import * as D from "./decode";
import * as S from "./state";
import { gpr, setGpr, RCX, cpl, F_RF, F_FIXED1 } from "./state";
import { raiseGP, raiseUD } from "./fault";
import { isCanonical } from "./mmu";
import { getRflags, setRflags } from "./flags";
import { setCpl } from "./segment";

export function execSyscall(): void {
  if ((S.efer & S.EFER_SCE) == 0) { raiseUD(); return; }
  setGpr(RCX, S.nrip);
  const f = getRflags();
  setGpr(11, f & ~F_RF);
  setRflags(f & ~S.msrFmask & ~F_RF);
  const sel = <u32>((S.msrStar >> 32) & 0xfffc);
  S.setSegSel(S.CS, <u16>sel); S.setSegAr(S.CS, 0xa09b); S.setSegBase(S.CS, 0); S.setSegLimit(S.CS, 0xffffffff);
  S.setSegSel(S.SS, <u16>(sel + 8)); S.setSegAr(S.SS, 0xc093); S.setSegBase(S.SS, 0); S.setSegLimit(S.SS, 0xffffffff);
  setCpl(0);
  S.nrip = S.msrLstar;
}

export function execSysret(e: usize): void {
  if ((S.efer & S.EFER_SCE) == 0) { raiseUD(); return; }
  if (cpl != 0) { raiseGP(0); return; }
  const to64 = load<u8>(e, D.D_OSZ) == 8;
  if (!to64) { raiseUD(); return; } // return to compatibility mode: not modelled
  const t = gpr(RCX);
  if (!isCanonical(t)) { raiseGP(0); return; }
  const base = <u32>((S.msrStar >> 48) & 0xffff);
  S.setSegSel(S.CS, <u16>((base + 16) | 3)); S.setSegAr(S.CS, 0xa0fb); S.setSegBase(S.CS, 0); S.setSegLimit(S.CS, 0xffffffff);
  S.setSegSel(S.SS, <u16>((base + 8) | 3)); S.setSegAr(S.SS, 0xc0f3); S.setSegBase(S.SS, 0); S.setSegLimit(S.SS, 0xffffffff);
  setRflags((gpr(11) & 0x3c7fd7) | F_FIXED1);
  setCpl(3);
  S.nrip = t;
}

export function execSwapgs(): void {
  if (cpl != 0) { raiseGP(0); return; }
  const t = S.segBase(S.GS); S.setSegBase(S.GS, S.msrKernelGsBase); S.msrKernelGsBase = t;
}
