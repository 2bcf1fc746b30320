// EXIT_REASON_XSETBV: this virtual CPU offers no XSAVE (CPUID.1:ECX.XSAVE=0),
// so any XSETBV that reaches the hypervisor is refused with #GP(0), as Xen's
// hvm_handle_xsetbv() refuses an invalid XCR0.
import type { Vcpu } from '../vcpu.js';
import { X86_EXC_GP } from '../../../assembly/shared/x86-defns.js';

export function vmxXsetbv(v: Vcpu): void { v.injectHwException(X86_EXC_GP, 0); }
