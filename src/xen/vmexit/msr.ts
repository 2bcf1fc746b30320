// EXIT_REASON_MSR_READ / MSR_WRITE (Xen's vmx_msr_read_intercept /
// vmx_msr_write_intercept). MSRs the VMCS holds (EFER, PAT, SYSENTER_*,
// FS/GS base) are emulated through their guest-state fields; those the CPU
// keeps (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE, TSC_AUX, APIC base)
// through the CPU's MSR interface; IA32_TSC through TSC_OFFSET; Xen's
// hypercall-page MSR installs the hypercall page; the few read-mostly MSRs
// Xen's guest MSR policy answers itself (xen/arch/x86/msr.c guest_rdmsr /
// guest_wrmsr: microcode revision, feature control, platform info, CPUID
// faulting) as Xen answers them. Anything else raises #GP(0) in the guest, as
// Xen 4.15+ does for unknown MSRs.
import type { Vcpu } from '../vcpu.js';
import { X86_EXC_GP } from '../../../assembly/shared/x86-defns.js';
import { XEN_HYPERCALL_PAGE_MSR, __HYPERVISOR_iret } from '../public.js';
import { PAGE_SIZE } from '../frames.js';
import { hex } from '../../util/format.js';

import {
  MSR_IA32_TSC, MSR_IA32_APIC_BASE, MSR_IA32_MISC_ENABLE, MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP,
  MSR_IA32_SYSENTER_EIP, MSR_IA32_CR_PAT, MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_FS_BASE,
  MSR_GS_BASE, MSR_SHADOW_GS_BASE, MSR_TSC_AUX, EFER_SCE, EFER_LME, EFER_LMA, EFER_NXE,
  MSR_IA32_FEATURE_CONTROL, MSR_AMD_PATCHLEVEL, MSR_INTEL_PLATFORM_INFO, MSR_INTEL_MISC_FEATURES_ENABLES,
} from '../../../assembly/shared/msr-index.js';
const EFER_KNOWN = BigInt(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE), LME = BigInt(EFER_LME), LMA = BigInt(EFER_LMA);

/** MSRs held in the VMCS guest-state area. */
const VMCS_MSRS: Record<number, string> = {
  [MSR_EFER]: 'GUEST_IA32_EFER', [MSR_IA32_CR_PAT]: 'GUEST_IA32_PAT', [MSR_IA32_SYSENTER_CS]: 'GUEST_SYSENTER_CS',
  [MSR_IA32_SYSENTER_ESP]: 'GUEST_SYSENTER_ESP', [MSR_IA32_SYSENTER_EIP]: 'GUEST_SYSENTER_EIP',
  [MSR_FS_BASE]: 'GUEST_FS_BASE', [MSR_GS_BASE]: 'GUEST_GS_BASE',
};
/** MSRs the CPU holds itself. */
const CPU_MSRS = new Set([MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK, MSR_SHADOW_GS_BASE, MSR_TSC_AUX,
  MSR_IA32_APIC_BASE, MSR_IA32_MISC_ENABLE]);

// Xen's guest MSR policy for an HVM guest (xen/arch/x86/msr.c, include/asm/msr.h):
/** IA32_FEATURE_CONTROL: locked, VMX off (no nested virtualisation), no LMCE. */
const FEATURE_CONTROL_LOCKED = 1n;
/** MSR_INTEL_PLATFORM_INFO.CPUID_FAULTING (bit 31): Xen offers CPUID faulting to HVM guests (it sees every CPUID). */
const PLATFORM_INFO_CPUID_FAULTING = 1n << 31n;
/** MSR_INTEL_MISC_FEATURES_ENABLES.CPUID_FAULTING (bit 0): CPUID at CPL > 0 raises #GP(0). */
const MISC_FEATURES_CPUID_FAULTING = 1n;
/**
 * The microcode revision: Xen forwards the host's last loaded revision; this virtual CPU has none.
 * Intel's "write 0, CPUID, read" sequence is allowed (the write is ignored).
 */
const UCODE_REV = 0n;

const canonical = (v: bigint) => { const top = v >> 47n; return top === 0n || top === 0x1ffffn; };

function msrRead(v: Vcpu, msr: number): bigint | undefined {
  const m = v.m;
  if (msr === MSR_IA32_TSC) return BigInt.asUintN(64, m.vcycles + m.vmread('TSC_OFFSET'));
  if (VMCS_MSRS[msr]) return m.vmread(VMCS_MSRS[msr]);
  if (CPU_MSRS.has(msr)) return m.rdmsr(msr);
  switch (msr) {
    case MSR_IA32_FEATURE_CONTROL: return FEATURE_CONTROL_LOCKED;
    case MSR_AMD_PATCHLEVEL: return UCODE_REV;
    case MSR_INTEL_PLATFORM_INFO: return PLATFORM_INFO_CPUID_FAULTING;
    case MSR_INTEL_MISC_FEATURES_ENABLES: return v.cpuidFaulting ? MISC_FEATURES_CPUID_FAULTING : 0n;
  }
  return undefined;
}

/** Returns false to raise #GP. */
function msrWrite(v: Vcpu, msr: number, val: bigint): boolean {
  const m = v.m;
  switch (msr) {
    case MSR_IA32_TSC:
      m.vmwrite('TSC_OFFSET', BigInt.asUintN(64, val - m.vcycles));
      return true;
    case MSR_EFER: {
      const old = m.vmread('GUEST_IA32_EFER');
      if (val & ~EFER_KNOWN) return false;
      if ((val ^ old) & LME) return false;         // paging is on: LME is fixed
      m.vmwrite('GUEST_IA32_EFER', (val & ~LMA) | (old & LMA));
      return true;
    }
    case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP: case MSR_FS_BASE: case MSR_GS_BASE:
      if (!canonical(val)) return false;
      m.vmwrite(VMCS_MSRS[msr], val);
      return true;
    case MSR_IA32_SYSENTER_CS: m.vmwrite('GUEST_SYSENTER_CS', val & 0xffffffffn); return true;
    case MSR_IA32_CR_PAT: m.vmwrite('GUEST_IA32_PAT', val); return true;
    case XEN_HYPERCALL_PAGE_MSR: return installHypercallPage(v, val);
    case MSR_AMD_PATCHLEVEL: return true;                       // Intel: ignored (Xen guest_wrmsr)
    case MSR_INTEL_MISC_FEATURES_ENABLES:
      if (val & ~MISC_FEATURES_CPUID_FAULTING) return false;
      v.cpuidFaulting = (val & MISC_FEATURES_CPUID_FAULTING) !== 0n;
      return true;
  }
  if (CPU_MSRS.has(msr)) return m.wrmsr(msr, val);
  return false;
}

/**
 * The hypercall page (Xen's vmx_init_hypercall_page): the MSR value is the
 * guest-physical address of a page (low 12 bits: page index, must be 0);
 * each 32-byte slot i becomes "mov $i, %eax; vmcall; ret", except
 * __HYPERVISOR_iret, which is ud2.
 */
function installHypercallPage(v: Vcpu, val: bigint): boolean {
  if (val & 0xfffn) return false;
  const page = new Uint8Array(PAGE_SIZE).fill(0xcc);
  for (let i = 0; i < PAGE_SIZE / 32; i++) {
    const p = i * 32;
    if (i === __HYPERVISOR_iret) { page[p] = 0x0f; page[p + 1] = 0x0b; continue; }
    page.set([0xb8, i & 0xff, (i >> 8) & 0xff, 0, 0, 0x0f, 0x01, 0xc1, 0xc3], p);
  }
  const gpa = Number(val);
  if (!Number.isSafeInteger(gpa) || !v.domain.writeGuestPhys(gpa, page)) return false;
  v.domain.log(`d${v.domain.id}v${v.id} hypercall page installed at gfn ${hex(val >> 12n)}`);
  return true;
}

export function vmxMsrRead(v: Vcpu): void {
  const msr = Number(v.gpr('rcx') & 0xffffffffn);
  const val = msrRead(v, msr);
  if (val === undefined) {
    v.domain.log(`d${v.domain.id}v${v.id} RDMSR 0x${msr.toString(16).padStart(8, '0')} unimplemented`);
    v.injectHwException(X86_EXC_GP, 0);
    return;
  }
  v.setGpr('rax', val & 0xffffffffn);
  v.setGpr('rdx', val >> 32n);
  v.updateGuestEip();
}

export function vmxMsrWrite(v: Vcpu): void {
  const msr = Number(v.gpr('rcx') & 0xffffffffn);
  const val = ((v.gpr('rdx') & 0xffffffffn) << 32n) | (v.gpr('rax') & 0xffffffffn);
  if (!msrWrite(v, msr, val)) {
    v.domain.log(`d${v.domain.id}v${v.id} WRMSR 0x${msr.toString(16).padStart(8, '0')} val ${hex(val)} refused`);
    v.injectHwException(X86_EXC_GP, 0);
    return;
  }
  v.updateGuestEip();
}
