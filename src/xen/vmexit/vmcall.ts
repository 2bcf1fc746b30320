// EXIT_REASON_VMCALL: a hypercall (src/xen/hypercall.ts), then skip VMCALL unless the hypercall
// was preempted (Xen's vmx_vmexit_handler: update_guest_eip() unless HVM_HCALL_preempted).
import type { Vcpu } from '../vcpu.js';
import { hvmHypercall } from '../hypercall.js';

export function vmxVmcall(v: Vcpu): void {
  const r = hvmHypercall(v);
  if (r !== 'preempted' && !v.domain.isShutdown) v.updateGuestEip();
}
