// Dom0's side of the mechanism: an event channel bound to the VIRQs the
// hypervisor raises (VIRQ_TBUF, and the paper's per-request VIRQ), the
// xentrace daemon (woken by a VIRQ or by its 100 ms poll) draining the trace
// buffers, and the hand-off of each VMI request to the launcher. Dom0 runs on
// its own (virtual) CPU: it is serviced at the guest's VM entries once the
// guest's virtual time has passed Dom0's wake-up time, so the guest never
// waits for it.
import type { Domain } from '../xen/domain.js';
import { VIRQ_TBUF, VIRQ_VMI, type VmiMechanism } from '../xen/vmi.js';
import { XentraceConsumer } from './xentrace.js';
import { TRC_VMI_REQUEST } from '../xen/trace-events.js';
import { parseVmiRequest, type VmiRequest } from '../xen/vmi-trigger.js';

/** Modelled Dom0 latencies in TSC cycles (placeholders until the cost-model issue cites them). */
export interface Dom0Costs {
  /** Event-channel upcall into Dom0's kernel after the hypervisor sends a VIRQ (assumed). */
  virqDelivery: number;
  /** Scheduling the xentrace daemon and its read of the buffers (assumed). */
  dom0Wakeup: number;
  /** The xentrace daemon's poll period in milliseconds (tools/xentrace: 100 ms). */
  pollMs: number;
}
export const DOM0_PLACEHOLDER_COSTS: Dom0Costs = { virqDelivery: 2_000, dom0Wakeup: 20_000, pollMs: 100 };

/** One handled request with its modelled timeline (virtual cycles). */
export interface HandledRequest {
  request: VmiRequest;
  /** The VIRQ that woke Dom0 ('poll' when the daemon's timer found it). */
  wokenBy: 'VIRQ_VMI' | 'VIRQ_TBUF' | 'poll';
  detectedAt: bigint;
  dom0At: bigint;
}

export class Dom0 {
  readonly consumer: XentraceConsumer;
  readonly handled: HandledRequest[] = [];
  private pendingWake: bigint | undefined;
  private pendingCause: HandledRequest['wokenBy'] = 'poll';
  private nextPoll: bigint;
  private readonly pollCycles: bigint;
  private seen = 0;

  constructor(private readonly d: Domain, private readonly mech: VmiMechanism,
              private readonly onRequest: (h: HandledRequest) => void,
              private readonly costs: Dom0Costs = DOM0_PLACEHOLDER_COSTS) {
    this.consumer = new XentraceConsumer(d.machine, mech.trace.tInfo, mech.trace.cpus);
    this.pollCycles = BigInt(Math.round(costs.pollMs * d.tscKhz));
    this.nextPoll = d.machine.vcycles + this.pollCycles;
    mech.onVirq = (virq, at) => {
      const wake = at + BigInt(costs.virqDelivery + costs.dom0Wakeup);
      if (this.pendingWake === undefined || wake < this.pendingWake) {
        this.pendingWake = wake;
        this.pendingCause = virq === VIRQ_VMI ? 'VIRQ_VMI' : virq === VIRQ_TBUF ? 'VIRQ_TBUF' : 'poll';
      }
    };
    d.vcpu.entryHooks.push(() => this.tick());
  }

  /** At each guest VM entry: run Dom0 if its wake-up time has come. */
  tick(): void {
    const now = this.d.machine.vcycles;
    if (now >= this.nextPoll) {
      if (this.pendingWake === undefined || this.nextPoll < this.pendingWake) { this.pendingWake = this.nextPoll; this.pendingCause = 'poll'; }
      while (this.nextPoll <= now) this.nextPoll += this.pollCycles;
    }
    if (this.pendingWake !== undefined && now >= this.pendingWake) {
      const at = this.pendingWake, cause = this.pendingCause;
      this.pendingWake = undefined;
      this.service(at, cause);
    }
  }

  /** The xentrace daemon's pass: drain the buffers, hand each VMI request on. */
  service(at: bigint, cause: HandledRequest['wokenBy']): void {
    this.consumer.poll();
    const recs = this.consumer.records;
    for (; this.seen < recs.length; this.seen++) {
      const r = recs[this.seen];
      if (r.event !== TRC_VMI_REQUEST) continue;
      const request = parseVmiRequest(r.data, r.tsc);
      const h: HandledRequest = { request, wokenBy: cause, detectedAt: request.tsc, dom0At: at };
      this.handled.push(h);
      this.onRequest(h);
    }
  }

  /** At the end of a run: drain what is left (the daemon's final read). */
  flush(): void { this.service(this.d.machine.vcycles, 'poll'); }
}
