// Trace event ids as Xen 4.17's public/trace.h defines them: class in bits
// 27:16, subclass 15:12, minor 11:0. Only the ids the hypervisor emits.

export const TRC_GEN = 0x0001f000;
export const TRC_SCHED_MIN = 0x00021000;
export const TRC_HVM_ENTRYEXIT = 0x00081000;
export const TRC_HVM_HANDLER = 0x00082000;
export const TRC_64_FLAG = 0x100;

export const TRC_LOST_RECORDS = TRC_GEN + 1;
export const TRC_TRACE_WRAP_BUFFER = TRC_GEN + 2;
export const TRC_TRACE_CPU_CHANGE = TRC_GEN + 3;
/**
 * Ours: a VMI request detected by the VMFUNC-aware RDTSC handler. A spare id in
 * the GEN class, which xenalyze accepts (it rejects unknown classes). Data:
 * [domid:16 | vcpu:16, eptp_index:16 | parameter:16, rip lo, rip hi, cr3 lo, cr3 hi], TSC = detection time.
 */
export const TRC_VMI_REQUEST = TRC_GEN + 0x10;
/**
 * Ours: a VMI request lost because the domain's request ring was full or its rate was spent
 * (src/xen/vm_event.ts), beside TRC_VMI_REQUEST in the GEN class. Data: the request's six words
 * as TRC_VMI_REQUEST has them, then the reason (VMI_DROP_RING_FULL 1, VMI_DROP_RATE 2); TSC = detection time.
 */
export const TRC_VMI_REQUEST_DROPPED = TRC_GEN + 0x11;

export const TRC_SCHED_RUNSTATE_CHANGE = TRC_SCHED_MIN + 1;
export const RUNSTATE_RUNNING = 0, RUNSTATE_RUNNABLE = 1, RUNSTATE_BLOCKED = 2, RUNSTATE_OFFLINE = 3;
/** The runstate-change id carries the old and new states in bits 11:8 and 7:4 (Xen's trace_runstate_change). */
export function runstateChange(oldState: number, newState: number): number {
  return TRC_SCHED_RUNSTATE_CHANGE | ((oldState & 3) << 8) | ((newState & 3) << 4);
}

export const TRC_HVM_VMENTRY = TRC_HVM_ENTRYEXIT + 0x01;
export const TRC_HVM_VMEXIT = TRC_HVM_ENTRYEXIT + 0x02;
export const TRC_HVM_VMEXIT64 = TRC_HVM_VMEXIT + TRC_64_FLAG;
export const TRC_HVM_INJ_EXC = TRC_HVM_HANDLER + 0x03;
export const TRC_HVM_INJ_VIRQ = TRC_HVM_HANDLER + 0x04;
export const TRC_HVM_CPUID = TRC_HVM_HANDLER + 0x0e;
export const TRC_HVM_INTR = TRC_HVM_HANDLER + 0x0f;
export const TRC_HVM_VMMCALL = TRC_HVM_HANDLER + 0x12;
export const TRC_HVM_HLT = TRC_HVM_HANDLER + 0x13;
export const TRC_HVM_RDTSC = TRC_HVM_HANDLER + 0x1a;
export const TRC_HVM_INTR_WINDOW = TRC_HVM_HANDLER + 0x20;
export const TRC_HVM_NPF = TRC_HVM_HANDLER + 0x21;

