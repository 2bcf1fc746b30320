// EXIT_REASON_VMFUNC: a VM function the hardware could not perform (a
// disabled function, an EPTP-list index out of range or naming an invalid
// EPTP). Xen's vmx_vmfunc_intercept() reports "Failed vm switch to the p2m"
// and the guest gets #UD.
import type { Vcpu } from '../vcpu.js';
import { X86_EXC_UD } from '../../../assembly/shared/x86-defns.js';
import { hex } from '../../util/format.js';

export function vmxVmfunc(v: Vcpu): void {
  const m = v.m;
  v.domain.log(`d${v.domain.id}v${v.id} Failed vm switch to the p2m: VMFUNC eax ${hex(m.gpr('rax') & 0xffffffffn)} ` +
    `ecx ${hex(m.gpr('rcx') & 0xffffffffn)} at RIP ${hex(m.vmread('GUEST_RIP'))}`);
  v.injectHwException(X86_EXC_UD);
}
