// Virtual time the hypervisor charges for work the guest does not execute:
// the hardware VM exit + VM entry round trip, and each exit handler.
//
// The numbers come from a CPU profile (cost-profiles.ts, every number with its
// source). PLACEHOLDER_COSTS below is the `placeholder` profile's table: round
// numbers of the right order (../shared/REFERENCE.md: a direct VM exit + entry
// ~2,000 cycles per SplitX; Xen's RDTSC emulation 15-20x a native RDTSC), which
// `run` uses by default so the TVM's timing stays as its tests expect.
import { exitReasonName } from '../vmcs.js';

export interface XenCosts {
  /** Hardware VM exit plus the following VM entry, in cycles. */
  vmexitRoundTrip: number;
  /** Handler work by exit-reason name (Xen/Linux spelling), in cycles. */
  handler: Record<string, number>;
  /** Handler work for a reason missing from `handler`. */
  handlerDefault: number;
}

export const PLACEHOLDER_COSTS: XenCosts = {
  vmexitRoundTrip: 1000,
  handler: {
    IO_INSTRUCTION: 300,    // port decode + device model
    CPUID: 100,
    HLT: 200,               // blocking the vCPU and waking it (the idle time itself is charged apart)
    RDTSC: 300,             // hvm_rdtsc_intercept
    RDTSCP: 300,
    MSR_READ: 150,
    MSR_WRITE: 200,
    VMCALL: 400,            // hypercall dispatch
    PREEMPTION_TIMER: 100,  // the host timer softirq that raises the guest's tick
    INTERRUPT_WINDOW: 100,
    EXCEPTION_NMI: 200,
    TRIPLE_FAULT: 0,
  },
  handlerDefault: 200,
};

export function handlerCost(c: XenCosts, reason: number): number {
  return c.handler[exitReasonName(reason)] ?? c.handlerDefault;
}
