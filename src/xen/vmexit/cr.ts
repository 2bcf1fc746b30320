// EXIT_REASON_CR_ACCESS. With EPT, Xen intercepts only writes that change
// host-owned CR4 bits (HVM_CR4_HOST_MASK: VMXE, PAE, MCE): clearing PAE in
// long mode and setting VMXE (no nested virtualisation) raise #GP; MCE is
// the guest's to set. Everything else is unexpected here.
import type { Vcpu } from '../vcpu.js';
import { HVM_CR4_HOST_MASK } from '../vcpu.js';
import { X86_CR4_PAE, X86_CR4_VMXE, X86_EXC_GP } from '../../../assembly/shared/x86-defns.js';
import { GPR_NAMES } from '../../machine.js';
import { hex } from '../../util/format.js';

export function vmxCrAccess(v: Vcpu): void {
  const m = v.m;
  const q = Number(m.vmread('EXIT_QUALIFICATION'));
  const cr = q & 15, type = (q >> 4) & 3, reg = (q >> 8) & 15;
  if (type !== 0 || cr !== 4) {
    v.domain.crash(`Unexpected CR access exit: qualification ${hex(q)} at RIP ${hex(m.vmread('GUEST_RIP'))}`);
    return;
  }
  const val = m.gpr(GPR_NAMES[reg]);
  const mask = BigInt(HVM_CR4_HOST_MASK);
  if (!(val & BigInt(X86_CR4_PAE)) || (val & BigInt(X86_CR4_VMXE)) || (val >> 32n)) {
    v.injectHwException(X86_EXC_GP, 0);
    return;
  }
  // Accept: the guest's view (read shadow) takes the new value; the real CR4 keeps VMXE.
  m.vmwrite('CR4_READ_SHADOW', val & mask);
  m.vmwrite('GUEST_CR4', val | BigInt(X86_CR4_VMXE));
  v.updateGuestEip();
}
