// EXIT_REASON_HLT: update_guest_eip(); hvm_hlt(). The vCPU blocks until its
// next event -- the timer, on virtual time -- so virtual time jumps to the
// next deadline, and vmx_intr_assist() injects the tick on entry. As in
// Xen, HLT with interrupts disabled takes the vCPU down, and with no vCPU
// left online the domain powers off.
import type { Vcpu } from '../vcpu.js';
import { X86_EFLAGS_IF } from '../vcpu.js';
import { VMCS_FIELDS as F } from '../../vmcs.js';

export function vmxHlt(v: Vcpu): void {
  const m = v.m;
  v.updateGuestEip();
  if (!(m.vmread(F.GUEST_RFLAGS) & X86_EFLAGS_IF)) {
    v.domain.log(`d${v.domain.id}v${v.id} HLT with interrupts disabled: vCPU down; all CPUs offline -- powering off`);
    v.domain.shutdown({ reason: 'poweroff', status: 0, source: 'hlt', message: 'HLT with interrupts disabled (all vCPUs down)' });
    return;
  }
  v.timer.update(m.vcycles);
  if (v.timer.pending) return;
  const now = m.vcycles, wake = v.nextEventCycles();
  if (wake > now) {
    m.addVcycles(wake - now);
    v.stats.haltedCycles += wake - now;
  }
  v.timer.update(m.vcycles);
}
