// EXIT_REASON_HLT: update_guest_eip(); hvm_hlt(). The vCPU blocks until its
// next event (the scheduler's vcpu_block, src/xen/sched.ts): on virtual time
// the clock jumps to the next deadline on its CPU, and vmx_intr_assist()
// injects the tick on entry. As in Xen, HLT with interrupts disabled takes
// the vCPU down (hvm_vcpu_down), and with no vCPU left online the domain
// powers off.
import type { Vcpu } from '../vcpu.js';
import { X86_EFLAGS_IF } from '../../../assembly/shared/x86-defns.js';
import { VMCS_FIELDS as F } from '../../vmcs.js';

export function vmxHlt(v: Vcpu): void {
  const m = v.m, d = v.domain;
  v.updateGuestEip();
  if (!(m.vmread(F.GUEST_RFLAGS) & BigInt(X86_EFLAGS_IF))) {
    if (!d.sched.vcpuDown(v)) { d.log(`d${d.id}v${v.id} HLT with interrupts disabled: vCPU down`); return; }
    d.log(`d${d.id}v${v.id} HLT with interrupts disabled: vCPU down; all CPUs offline -- powering off`);
    d.shutdown({ reason: 'poweroff', status: 0, source: 'hlt', message: 'HLT with interrupts disabled (all vCPUs down)' });
    return;
  }
  d.sched.block(v);
}
