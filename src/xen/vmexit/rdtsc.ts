// EXIT_REASON_RDTSC / RDTSCP: with RDTSC exiting on (the VMI trigger), every
// guest RDTSC lands here. Xen: update_guest_eip(); hvm_rdtsc_intercept(),
// which returns the guest's TSC (virtual time plus TSC_OFFSET) in EDX:EAX.
import type { Vcpu } from '../vcpu.js';
import { MSR_TSC_AUX } from '../../../assembly/shared/msr-index.js';
import { VMCS_FIELDS as F } from '../../vmcs.js';
import { RAX, RCX, RDX } from '../../../assembly/shared/regs.js';

/**
 * The VMFUNC-awareness hook: runs inside every emulated RDTSC/RDTSCP, after
 * the guest's TSC has been computed: the paper's check (read the current
 * EPTP, map it to its index, write back view index-10 and raise the VMI
 * request), when the domain has the mechanism (src/xen/trigger.ts).
 */
export function vmfuncAwarenessHook(v: Vcpu, tsc: bigint): void { v.domain.trigger?.onRdtsc(v, tsc); }

/** The guest's view of the TSC now: virtual cycles plus TSC_OFFSET. */
export function guestTsc(v: Vcpu): bigint {
  return BigInt.asUintN(64, v.m.vcycles + v.m.vmread(F.TSC_OFFSET));
}

export function vmxRdtsc(v: Vcpu): void {
  v.updateGuestEip();
  const tsc = guestTsc(v);
  v.setGpr(RAX, tsc & 0xffffffffn);
  v.setGpr(RDX, tsc >> 32n);
  vmfuncAwarenessHook(v, tsc);
}

export function vmxRdtscp(v: Vcpu): void {
  v.updateGuestEip();
  const tsc = guestTsc(v);
  v.setGpr(RAX, tsc & 0xffffffffn);
  v.setGpr(RDX, tsc >> 32n);
  v.setGpr(RCX, v.m.rdmsr(MSR_TSC_AUX) & 0xffffffffn);
  vmfuncAwarenessHook(v, tsc);
}
