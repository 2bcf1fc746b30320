// Exits that exist to let the hypervisor deliver interrupts:
// - the VMX-preemption timer plays the host's timer interrupt: it fires at
//   the earliest deadline on the vCPU's CPU (src/xen/timer.ts; the guest's
//   periodic timer) or the run's time limit; the timers due run now (Xen's
//   TIMER_SOFTIRQ), and vmx_intr_assist() injects what they raised before
//   the next entry;
// - the interrupt window opens when the guest can take the pending interrupt;
// - an external interrupt belongs to the host: nothing to do for the guest.
import type { Vcpu } from '../vcpu.js';

export function vmxPreemptionTimer(v: Vcpu): void { v.domain.timers.timerSoftirqAction(v.processor, v.m.vcycles); }
export function vmxInterruptWindow(_v: Vcpu): void { /* vmx_intr_assist() injects on the way back in */ }
export function vmxExternalInterrupt(_v: Vcpu): void { /* the host's own interrupt, acknowledged on exit */ }
