// EXIT_REASON_EXCEPTION_NMI: only the exceptions Xen intercepts for every
// HVM guest (HVM_TRAP_MASK: #DB, #AC, #MC) arrive here. #DB and #AC go back
// into the guest (Xen intercepts them to defeat CPU erratum-style event
// loops, not to handle them); a machine check crashes the domain.
import type { Vcpu } from '../vcpu.js';
import { X86_EXC_DB, X86_EXC_AC, X86_EXC_MC } from '../../../assembly/shared/x86-defns.js';
import { hex } from '../../util/format.js';

export function vmxExceptionNmi(v: Vcpu): void {
  const m = v.m;
  const info = Number(m.vmread('VM_EXIT_INTR_INFO'));
  const vector = info & 0xff, type = (info >> 8) & 7;
  const hasError = (info & (1 << 11)) !== 0;
  const error = hasError ? Number(m.vmread('VM_EXIT_INTR_ERROR_CODE')) : undefined;
  if (type === 2) return;                          // a host NMI: nothing for the guest
  switch (vector) {
    case X86_EXC_DB:
    case X86_EXC_AC:
      v.injectHwException(vector, error);
      return;
    case X86_EXC_MC:
      v.domain.crash(`Machine check exception in the guest at RIP ${hex(m.vmread('GUEST_RIP'))}`);
      return;
    default:
      v.domain.crash(`Unexpected exception exit: vector ${vector} type ${type} at RIP ${hex(m.vmread('GUEST_RIP'))}`);
  }
}
