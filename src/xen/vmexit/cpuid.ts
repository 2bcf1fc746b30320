// EXIT_REASON_CPUID: the virtual CPU's own leaves (src/cpuid.ts), plus Xen's
// hypervisor leaves at 0x40000000 (xen/arch/x86/traps.c,
// cpuid_hypervisor_leaves()): the "XenVMMXenVMM" signature, the version, the
// hypercall-page MSR, the time leaf and the HVM leaf with vCPU and domain ids.
import type { Vcpu } from '../vcpu.js';
import { nativeCpuid, type CpuidResult } from '../../cpuid.js';
import { X86_EXC_GP } from '../../../assembly/shared/x86-defns.js';
import { RAX, RCX, RDX, RBX } from '../../../assembly/shared/regs.js';
import { VMCS_FIELDS as F } from '../../vmcs.js';
import {
  XEN_CPUID_FIRST_LEAF, XEN_CPUID_MAX_NUM_LEAVES, XEN_CPUID_SIGNATURE_EBX, XEN_CPUID_SIGNATURE_ECX,
  XEN_CPUID_SIGNATURE_EDX, XEN_MAJOR, XEN_MINOR, XEN_HYPERCALL_PAGE_MSR, XEN_HVM_CPUID_IOMMU_MAPPINGS,
  XEN_HVM_CPUID_VCPU_ID_PRESENT, XEN_HVM_CPUID_DOMID_PRESENT,
} from '../public.js';

export function xenCpuidLeaves(v: Vcpu, leaf: number, subleaf: number): CpuidResult {
  const r = { eax: 0, ebx: 0, ecx: 0, edx: 0 };
  const idx = leaf - XEN_CPUID_FIRST_LEAF;
  if (idx > XEN_CPUID_MAX_NUM_LEAVES) return r;
  switch (idx) {
    case 0:
      r.eax = XEN_CPUID_FIRST_LEAF + XEN_CPUID_MAX_NUM_LEAVES;
      r.ebx = XEN_CPUID_SIGNATURE_EBX; r.ecx = XEN_CPUID_SIGNATURE_ECX; r.edx = XEN_CPUID_SIGNATURE_EDX;
      break;
    case 1: r.eax = (XEN_MAJOR << 16) | XEN_MINOR; break;
    case 2: r.eax = 1; r.ebx = XEN_HYPERCALL_PAGE_MSR; break;   // one hypercall page, MSR base
    case 3:                                                      // time leaf
      if (subleaf === 0) { r.eax = (1 << 1) | (1 << 2); r.ebx = 0; r.ecx = v.domain.tscKhz; r.edx = 0; } // TSC safe, RDTSCP; tsc_mode default
      else if (subleaf === 2) r.eax = v.domain.tscKhz;
      break;
    case 4:                                                      // HVM leaf
      if (subleaf === 0) {
        r.eax = XEN_HVM_CPUID_IOMMU_MAPPINGS | XEN_HVM_CPUID_VCPU_ID_PRESENT | XEN_HVM_CPUID_DOMID_PRESENT;
        r.ebx = v.id; r.ecx = v.domain.id;
      }
      break;
    default: break;                                              // 5: PV-only parameters
  }
  return r;
}

export function vmxCpuid(v: Vcpu): void {
  // CPUID faulting (MSR_INTEL_MISC_FEATURES_ENABLES bit 0; Xen's vmx_cpuid_intercept -> #GP(0) at CPL > 0).
  if (v.cpuidFaulting && (v.m.vmread32(F.GUEST_SS_AR_BYTES) & 0x60) !== 0) { v.injectHwException(X86_EXC_GP, 0); return; }
  const m = v.m, leaf = m.gpr32(RAX), subleaf = m.gpr32(RCX);
  const r = leaf >= XEN_CPUID_FIRST_LEAF && leaf < XEN_CPUID_FIRST_LEAF + 0x100
    ? xenCpuidLeaves(v, leaf, subleaf) : nativeCpuid(leaf, subleaf);
  m.setGpr32(RAX, r.eax); m.setGpr32(RBX, r.ebx);
  m.setGpr32(RCX, r.ecx); m.setGpr32(RDX, r.edx);
  v.updateGuestEip();
}
