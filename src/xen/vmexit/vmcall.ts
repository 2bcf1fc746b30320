// EXIT_REASON_VMCALL: a hypercall (src/xen/hypercall.ts), then skip VMCALL.
import type { Vcpu } from '../vcpu.js';
import { hvmHypercall } from '../hypercall.js';

export function vmxVmcall(v: Vcpu): void {
  hvmHypercall(v);
  if (!v.domain.isShutdown) v.updateGuestEip();
}
