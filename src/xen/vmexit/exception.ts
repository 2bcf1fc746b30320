// EXIT_REASON_EXCEPTION_NMI: only the exceptions Xen intercepts for every
// HVM guest (HVM_TRAP_MASK: #DB, #AC, #MC) arrive here. #DB and #AC go back
// into the guest (Xen intercepts them to defeat CPU erratum-style event
// loops, not to handle them); a machine check crashes the domain.
import type { Vcpu } from '../vcpu.js';
import { X86_EXC_DB, X86_EXC_AC, X86_EXC_MC } from '../../../assembly/shared/x86-defns.js';
import { INTR_INFO_VALID_MASK, INTR_TYPE_PRIV_SW_EXCEPTION } from '../../../assembly/shared/vmx-controls.js';
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
      if (type === (INTR_TYPE_PRIV_SW_EXCEPTION >> 8)) {
        // INT1 (ICEBP): vmx_propagate_intr() re-injects the event with its own type and, for types
        // from software interrupt up, the exit's instruction length, so VM entry delivers the #DB as
        // the trap INT1 raised (RIP after the instruction), not as a fault that would run it again.
        m.vmwrite('VM_ENTRY_INTR_INFO_FIELD', (INTR_INFO_VALID_MASK | INTR_TYPE_PRIV_SW_EXCEPTION | vector) >>> 0);
        m.vmwrite('VM_ENTRY_INSTRUCTION_LEN', m.vmread('VM_EXIT_INSTRUCTION_LEN'));
        return;
      }
      v.injectHwException(vector, error);
      return;
    case X86_EXC_MC:
      v.domain.crash(`Machine check exception in the guest at RIP ${hex(m.vmread('GUEST_RIP'))}`);
      return;
    default:
      v.domain.crash(`Unexpected exception exit: vector ${vector} type ${type} at RIP ${hex(m.vmread('GUEST_RIP'))}`);
  }
}
