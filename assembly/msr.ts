// Model-specific registers and the time-stamp counter: RDMSR/WRMSR with the MSR bitmaps that decide
// whether they VM-exit (SDM Vol. 3C 25.6.9, 26.1.3), the MSRs this CPU implements itself (SDM
// Vol. 4 ch. 2), RDTSC/RDTSCP with TSC offsetting (SDM Vol. 3B 18.17, Vol. 3C 25.6.5), and RDPMC.
import * as S from "./state";
import * as V from "./vmcs";
import { gpr, setGpr, RAX, RCX, RDX, cpl } from "./state";
import { raiseGP, raiseUD, requestExit } from "./fault";
import { tlbFlushAll, isCanonical, machineSize } from "./mmu";
import { MACHINE_BASE } from "./layout";
import { primary, secondary } from "./vmx/controls";

/** The guest's TSC: virtual cycles plus the TSC offset when offsetting is on (SDM 25.6.5). */
export function guestTsc(): u64 {
  let t = S.vcycles;
  if ((primary() & V.CPU_BASED_USE_TSC_OFFSETTING) != 0) t += V.vmcsGet(V.TSC_OFFSET);
  return t;
}

export function execRdtsc(): void {
  if ((S.cr4 & 4) != 0 && cpl > 0) { raiseGP(0); return; } // CR4.TSD
  if ((primary() & V.CPU_BASED_RDTSC_EXITING) != 0) { requestExit(V.EXIT_REASON_RDTSC, 0); return; }
  const t = guestTsc();
  setGpr(RAX, t & 0xffffffff); setGpr(RDX, t >> 32);
}

export function execRdtscp(): void {
  if ((secondary() & V.SECONDARY_EXEC_ENABLE_RDTSCP) == 0) { raiseUD(); return; }
  if ((S.cr4 & 4) != 0 && cpl > 0) { raiseGP(0); return; }
  if ((primary() & V.CPU_BASED_RDTSC_EXITING) != 0) { requestExit(V.EXIT_REASON_RDTSCP, 0); return; }
  const t = guestTsc();
  setGpr(RAX, t & 0xffffffff); setGpr(RDX, t >> 32); setGpr(RCX, S.msrTscAux & 0xffffffff);
}

const CR4_PCE: u64 = 1 << 8; // performance-monitoring counter enable (SDM Vol. 3A 2.5)

/**
 * RDPMC (SDM Vol. 2B RDPMC): at CPL > 0 without CR4.PCE, #GP(0); a privilege fault comes before the
 * RDPMC-exiting VM exit (Vol. 3C 26.1.1, 26.1.3). Then the counter ECX names must exist: this CPU
 * reports no performance monitoring (CPUID.0AH is all zero and CPUID.01H:ECX.PDCM[15] is clear,
 * src/cpuid.ts), so it has no counters and every index is #GP(0).
 */
export function execRdpmc(): void {
  if (cpl != 0 && (S.cr4 & CR4_PCE) == 0) { raiseGP(0); return; }
  if ((primary() & V.CPU_BASED_RDPMC_EXITING) != 0) { requestExit(V.EXIT_REASON_RDPMC, 0); return; }
  raiseGP(0);
}

// ---- MSRs (SDM 25.6.9 MSR bitmaps) ------------------------------------------
function msrExits(msr: u32, write: bool): bool {
  if ((primary() & V.CPU_BASED_USE_MSR_BITMAPS) == 0) return true;
  let off: u64;
  if (msr <= 0x1fff) off = 0;
  else if (msr >= 0xc0000000 && msr <= 0xc0001fff) off = 1024;
  else return true;
  if (write) off += 2048;
  const bit = <u64>(msr & 0x1fff);
  const addr = V.vmcsGet(V.MSR_BITMAP) + off + (bit >> 3);
  if (addr >= machineSize) return true;
  return ((load<u8>(MACHINE_BASE + <usize>addr) >> <u8>(bit & 7)) & 1) != 0;
}

export function execMsr(write: bool): void {
  if (cpl != 0) { raiseGP(0); return; }
  const msr = <u32>gpr(RCX);
  if (msrExits(msr, write)) { requestExit(write ? V.EXIT_REASON_MSR_WRITE : V.EXIT_REASON_MSR_READ, 0); return; }
  if (write) {
    const v = (gpr(RDX) << 32) | (gpr(RAX) & 0xffffffff);
    wrmsr(msr, v);
  } else {
    if (!msrReadable(msr)) { raiseGP(0); return; }
    const v = rdmsr(msr);
    setGpr(RAX, v & 0xffffffff); setGpr(RDX, v >> 32);
  }
}

function msrReadable(msr: u32): bool {
  switch (msr) {
    case S.MSR_IA32_TSC: case S.MSR_IA32_APIC_BASE: case S.MSR_IA32_SYSENTER_CS: case S.MSR_IA32_SYSENTER_ESP:
    case S.MSR_IA32_SYSENTER_EIP: case S.MSR_IA32_MISC_ENABLE: case S.MSR_IA32_PAT: case S.MSR_EFER:
    case S.MSR_STAR: case S.MSR_LSTAR: case S.MSR_CSTAR: case S.MSR_SYSCALL_MASK: case S.MSR_FS_BASE:
    case S.MSR_GS_BASE: case S.MSR_KERNEL_GS_BASE: case S.MSR_TSC_AUX: return true;
  }
  return false;
}

/** RDMSR of an MSR the CPU implements itself (callable by the host as well). */
export function rdmsr(msr: u32): u64 {
  switch (msr) {
    case S.MSR_IA32_TSC: return guestTsc();
    case S.MSR_IA32_APIC_BASE: return S.msrApicBase;
    case S.MSR_IA32_SYSENTER_CS: return S.msrSysenterCs;
    case S.MSR_IA32_SYSENTER_ESP: return S.msrSysenterEsp;
    case S.MSR_IA32_SYSENTER_EIP: return S.msrSysenterEip;
    case S.MSR_IA32_MISC_ENABLE: return S.msrMiscEnable;
    case S.MSR_IA32_PAT: return S.msrPat;
    case S.MSR_EFER: return S.efer;
    case S.MSR_STAR: return S.msrStar;
    case S.MSR_LSTAR: return S.msrLstar;
    case S.MSR_CSTAR: return S.msrCstar;
    case S.MSR_SYSCALL_MASK: return S.msrFmask;
    case S.MSR_FS_BASE: return S.segBase(S.FS);
    case S.MSR_GS_BASE: return S.segBase(S.GS);
    case S.MSR_KERNEL_GS_BASE: return S.msrKernelGsBase;
    case S.MSR_TSC_AUX: return S.msrTscAux;
  }
  return 0;
}

/** WRMSR with the architectural checks (#GP on reserved bits / non-canonical bases). */
export function wrmsr(msr: u32, v: u64): void {
  switch (msr) {
    case S.MSR_IA32_SYSENTER_CS: S.msrSysenterCs = v & 0xffffffff; return;
    case S.MSR_IA32_SYSENTER_ESP: if (!isCanonical(v)) break; S.msrSysenterEsp = v; return;
    case S.MSR_IA32_SYSENTER_EIP: if (!isCanonical(v)) break; S.msrSysenterEip = v; return;
    case S.MSR_IA32_PAT: S.msrPat = v; return;
    case S.MSR_IA32_APIC_BASE: S.msrApicBase = v; return;
    case S.MSR_EFER: {
      if ((v & ~(<u64>0xd01)) != 0) break; // SCE, LME, LMA (read-only), NXE
      // LME cannot change while paging is on; LMA is kept.
      if (((v ^ S.efer) & S.EFER_LME) != 0 && (S.cr0 & S.CR0_PG) != 0) break;
      S.efer = (v & ~S.EFER_LMA) | (S.efer & S.EFER_LMA);
      tlbFlushAll();
      return;
    }
    case S.MSR_STAR: S.msrStar = v; return;
    case S.MSR_LSTAR: if (!isCanonical(v)) break; S.msrLstar = v; return;
    case S.MSR_CSTAR: if (!isCanonical(v)) break; S.msrCstar = v; return;
    case S.MSR_SYSCALL_MASK: S.msrFmask = v & 0xffffffff; return;
    case S.MSR_FS_BASE: if (!isCanonical(v)) break; S.setSegBase(S.FS, v); return;
    case S.MSR_GS_BASE: if (!isCanonical(v)) break; S.setSegBase(S.GS, v); return;
    case S.MSR_KERNEL_GS_BASE: if (!isCanonical(v)) break; S.msrKernelGsBase = v; return;
    case S.MSR_TSC_AUX: if ((v >> 32) != 0) break; S.msrTscAux = v; return;
  }
  raiseGP(0);
}
