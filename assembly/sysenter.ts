// Fast system calls through the SYSENTER MSRs in IA-32e mode (SDM Vol. 2B "SYSENTER -- Fast System
// Call" and "SYSEXIT -- Fast Return from Fast System Call", Vol. 3A 5.8.7): IA32_SYSENTER_CS/ESP/EIP
// (state.ts msrSysenter*), CS and SS loaded with the fixed flat values the pseudocode gives, not from
// the GDT (the OS must lay out CS, CS+8 for SYSENTER and CS+32, CS+40 for a 64-bit SYSEXIT). Intel
// processors execute both in 64-bit mode (CPUID.01H:EDX.SEP[11], src/cpuid.ts). SYSEXIT without
// REX.W returns to compatibility mode, which this CPU does not model (it decodes 64-bit code only):
// #UD after the #GP checks, as SYSRET to compatibility mode (syscall.ts). Linux x86_64 without
// IA32_EMULATION writes IA32_SYSENTER_CS = 0 (syscall_init, arch/x86/kernel/cpu/common.c), so a
// SYSENTER from user space takes #GP(0) there.
import * as S from "./state";
import * as D from "./decode";
import { gpr, setGpr, RCX, RDX, RSP, cpl, F_VM, F_IF, F_RF } from "./state";
import { raiseGP, raiseUD } from "./fault";
import { isCanonical } from "./mmu";
import { getRflags, setRflags } from "./flags";
import { setCpl } from "./segment";

// Access rights (VMCS format) of the flat segments SYSENTER/SYSEXIT load: type 11 (execute/read,
// accessed) or 3 (read/write, accessed), S, P, G; 64-bit code has L = 1, D = 0; the stack B = 1.
const AR_CS0: u32 = 0xa09b, AR_SS0: u32 = 0xc093, AR_CS3: u32 = 0xa0fb, AR_SS3: u32 = 0xc0f3;

function flat(s: i32, sel: u32, ar: u32): void {
  S.setSegSel(s, <u16>sel); S.setSegAr(s, ar); S.setSegBase(s, 0); S.setSegLimit(s, 0xffffffff);
}

export function execSysenter(): void {
  const cs = <u32>S.msrSysenterCs & 0xfffc;
  if (cs == 0) { raiseGP(0); return; } // IA32_SYSENTER_CS[15:2] = 0
  setRflags(getRflags() & ~(F_VM | F_IF | F_RF));
  flat(S.CS, cs, AR_CS0);
  flat(S.SS, (cs + 8) & 0xffff, AR_SS0);
  setCpl(0);
  setGpr(RSP, S.msrSysenterEsp);
  S.nrip = S.msrSysenterEip;
}

export function execSysexit(e: usize): void {
  const msr = <u32>S.msrSysenterCs & 0xffff;
  if ((msr & 0xfffc) == 0 || cpl != 0) { raiseGP(0); return; }
  if (load<u8>(e, D.D_OSZ) != 8) { raiseUD(); return; } // return to compatibility mode: not modelled
  const rsp = gpr(RCX), rip = gpr(RDX);
  if (!isCanonical(rip) || !isCanonical(rsp)) { raiseGP(0); return; }
  const cs = ((msr + 32) & 0xffff) | 3;
  flat(S.CS, cs, AR_CS3);
  flat(S.SS, (cs + 8) & 0xffff, AR_SS3);
  setCpl(3);
  setGpr(RSP, rsp);
  S.nrip = rip;
}
