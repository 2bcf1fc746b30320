// vmx_vmexit_handler: one dispatch on the basic exit reason, one small
// handler per reason (src/xen/vmexit/), in the shape of Xen's
// xen/arch/x86/hvm/vmx/vmx.c. Anything else crashes the domain, as Xen's
// "Unexpected vmexit" path does.
import type { Vcpu } from './vcpu.js';
import {
  exitReasonName, INTR_INFO_VALID_MASK, INTR_INFO_DELIVER_CODE_MASK, INTR_INFO_RESVD_BITS_MASK, VMX_EXIT_REASONS_FAILED_VMENTRY,
  EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_EXTERNAL_INTERRUPT, EXIT_REASON_TRIPLE_FAULT, EXIT_REASON_PENDING_VIRT_INTR,
  EXIT_REASON_TASK_SWITCH, EXIT_REASON_CPUID, EXIT_REASON_HLT, EXIT_REASON_RDTSC, EXIT_REASON_RDTSCP, EXIT_REASON_VMCALL,
  EXIT_REASON_CR_ACCESS, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_MSR_READ, EXIT_REASON_MSR_WRITE,
  EXIT_REASON_INVALID_GUEST_STATE, EXIT_REASON_MSR_LOADING, EXIT_REASON_EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG,
  EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, EXIT_REASON_XSETBV, EXIT_REASON_VMFUNC, VMCS_FIELDS as F,
} from '../vmcs.js';
import { vmxExceptionNmi } from './vmexit/exception.js';
import { vmxTripleFault } from './vmexit/triple_fault.js';
import { vmxInterruptWindow, vmxPreemptionTimer, vmxExternalInterrupt } from './vmexit/interrupt.js';
import { vmxCpuid } from './vmexit/cpuid.js';
import { vmxHlt } from './vmexit/hlt.js';
import { vmxRdtsc, vmxRdtscp } from './vmexit/rdtsc.js';
import { vmxVmcall } from './vmexit/vmcall.js';
import { vmxCrAccess } from './vmexit/cr.js';
import { vmxIoInstruction } from './vmexit/io.js';
import { vmxMsrRead, vmxMsrWrite } from './vmexit/msr.js';
import { vmxEptViolation, vmxEptMisconfig } from './vmexit/ept.js';
import { vmxVmfunc } from './vmexit/vmfunc.js';
import { vmxXsetbv } from './vmexit/xsetbv.js';
import { hex } from '../util/format.js';

export function vmxVmexitHandler(v: Vcpu, exitReason: number): void {
  if (exitReason & VMX_EXIT_REASONS_FAILED_VMENTRY) { vmxFailedVmentry(v, exitReason); return; }
  const idtv = v.m.vmread32(F.IDT_VECTORING_INFO_FIELD);
  if ((exitReason & 0xffff) !== EXIT_REASON_TASK_SWITCH) vmxIdtvReinject(v, idtv);

  switch (exitReason & 0xffff) {
    case EXIT_REASON_EXCEPTION_NMI: vmxExceptionNmi(v); break;
    case EXIT_REASON_EXTERNAL_INTERRUPT: vmxExternalInterrupt(v); break;
    case EXIT_REASON_TRIPLE_FAULT: vmxTripleFault(v); break;
    case EXIT_REASON_PENDING_VIRT_INTR: vmxInterruptWindow(v); break;
    case EXIT_REASON_CPUID: vmxCpuid(v); break;
    case EXIT_REASON_HLT: vmxHlt(v); break;
    case EXIT_REASON_RDTSC: vmxRdtsc(v); break;
    case EXIT_REASON_RDTSCP: vmxRdtscp(v); break;
    case EXIT_REASON_VMCALL: vmxVmcall(v); break;
    case EXIT_REASON_CR_ACCESS: vmxCrAccess(v); break;
    case EXIT_REASON_IO_INSTRUCTION: vmxIoInstruction(v); break;
    case EXIT_REASON_MSR_READ: vmxMsrRead(v); break;
    case EXIT_REASON_MSR_WRITE: vmxMsrWrite(v); break;
    case EXIT_REASON_EPT_VIOLATION: vmxEptViolation(v); break;
    case EXIT_REASON_EPT_MISCONFIG: vmxEptMisconfig(v); break;
    case EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED: vmxPreemptionTimer(v); break;
    case EXIT_REASON_XSETBV: vmxXsetbv(v); break;
    case EXIT_REASON_VMFUNC: vmxVmfunc(v); break;
    default:
      v.domain.crash(`Unexpected vmexit: reason ${exitReason & 0xffff} (${exitReasonName(exitReason)}) at RIP ${hex(v.m.vmread(F.GUEST_RIP))}`);
  }
}

/**
 * An exit during event delivery leaves the event in the IDT-vectoring
 * information; it is re-injected on the next entry (Xen's vmx_idtv_reinject).
 */
function vmxIdtvReinject(v: Vcpu, idtv: number): void {
  if (!(idtv & INTR_INFO_VALID_MASK)) return;
  const m = v.m;
  m.vmwrite(F.VM_ENTRY_INTR_INFO_FIELD, (idtv & ~INTR_INFO_RESVD_BITS_MASK) >>> 0);
  if (idtv & INTR_INFO_DELIVER_CODE_MASK) m.vmwrite(F.VM_ENTRY_EXCEPTION_ERROR_CODE, m.vmread(F.IDT_VECTORING_ERROR_CODE));
  const type = (idtv >> 8) & 7;
  if (type === 4 || type === 5 || type === 6) m.vmwrite(F.VM_ENTRY_INSTRUCTION_LEN, m.vmread(F.VM_EXIT_INSTRUCTION_LEN));
}

function vmxFailedVmentry(v: Vcpu, exitReason: number): void {
  const basic = exitReason & 0xffff;
  const cause = basic === EXIT_REASON_INVALID_GUEST_STATE ? 'invalid guest state' : basic === EXIT_REASON_MSR_LOADING ? 'MSR loading' : 'machine-check event';
  v.domain.crash(`Failed vm entry (exit reason ${hex(BigInt(exitReason >>> 0))}) caused by ${cause} (${exitReasonName(exitReason)})`);
}

