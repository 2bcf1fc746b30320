// Whether an SSE/SSE2 instruction may execute, and how an unmasked SIMD floating-point exception is
// reported (SDM Vol. 3A 2.5 "Control Registers" (CR0.EM, CR0.TS, CR4.OSFXSR, CR4.OSXMMEXCPT), 13.1 and
// 13.2 "Providing Non-Packed SIMD Support", Vol. 2 3.1.1.13 / the "SIMD Floating-Point Exceptions" and
// "Exceptions Type" tables of chapter 2.4 (Type 1-5 exception classes): #UD when CR0.EM = 1 or
// CR4.OSFXSR = 0, else #NM when CR0.TS = 1. The CPUID.SSE/SSE2 check is implicit: this CPU has them.
// LDMXCSR/STMXCSR, MOVNTI, CLFLUSH and the fences are exceptions to these rules the callers apply.
import * as S from "../state";
import { raise, raiseUD } from "../fault";

/** The SSE availability check of every SSE/SSE2 instruction: false after raising #UD or #NM. */
export function sseUsable(): bool {
  if ((S.cr0 & S.CR0_EM) != 0 || (S.cr4 & S.CR4_OSFXSR) == 0) { raiseUD(); return false; }
  if ((S.cr0 & S.CR0_TS) != 0) { raise(S.NM, 0, false); return false; }
  return true;
}

/**
 * An unmasked SIMD floating-point exception (MXCSR flag set with its mask bit clear):
 * #XM (19) when CR4.OSXMMEXCPT = 1, else #UD (SDM Vol. 3A 6.15 "Interrupt 19", Vol. 1 11.5.1).
 */
export function raiseSimdFault(): void {
  if ((S.cr4 & S.CR4_OSXMMEXCPT) != 0) raise(S.XM, 0, false);
  else raiseUD();
}
