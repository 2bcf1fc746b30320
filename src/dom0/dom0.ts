// Dom0's side of the mechanism: an event channel bound to the VIRQs the
// hypervisor raises (VIRQ_TBUF, and the paper's per-request VIRQ), the
// xentrace daemon (woken by a VIRQ or by its 100 ms poll) draining the trace
// buffers, and the hand-off of each VMI request to the launcher. Dom0 runs on
// its own (virtual) CPU: it is serviced at the guest's VM entries once the
// guest's virtual time has passed Dom0's wake-up time, so the guest never
// waits for it.
import type { Domain } from '../xen/domain.js';
import { VIRQ_TBUF, VIRQ_VMI, type VmiTrigger } from '../xen/trigger.js';
import { XentraceConsumer } from './xentrace.js';
import { dom0Costs } from '../xen/cost-profiles.js';
import { TRC_VMI_REQUEST } from '../xen/trace-events.js';
import { parseVmiRequest, type VmiRequest } from '../xen/vmfunc-awareness.js';

/** Modelled Dom0 latencies in TSC cycles (the cost profile's, src/xen/cost-profiles.ts). */
export interface Dom0Costs {
  /** Event-channel upcall into Dom0's kernel after the hypervisor sends a VIRQ (assumed). */
  virqDelivery: number;
  /** Scheduling the xentrace daemon and its read of the buffers (assumed). */
  dom0Wakeup: number;
  /** The xentrace daemon's poll period in milliseconds (tools/xentrace: 100 ms). */
  pollMs: number;
}

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
  /** Wake-ups to come (virtual time, cause), earliest first: each VIRQ and each poll is one. */
  private wakes: { at: bigint; cause: HandledRequest['wokenBy'] }[] = [];
  private nextPoll: bigint;
  private readonly pollCycles: bigint;
  private seen = 0;

  constructor(private readonly d: Domain, private readonly mech: VmiTrigger,
              private readonly onRequest: (h: HandledRequest) => void,
              private readonly costs: Dom0Costs = dom0Costs(d.profile)) {
    this.consumer = new XentraceConsumer(d.machine, mech.trace.tInfo, mech.trace.cpus);
    this.pollCycles = BigInt(Math.round(costs.pollMs * d.tscKhz));
    this.nextPoll = d.machine.vcycles + this.pollCycles;
    mech.onVirq = (virq, at) => {
      this.wake(at + BigInt(costs.virqDelivery + costs.dom0Wakeup), virq === VIRQ_VMI ? 'VIRQ_VMI' : virq === VIRQ_TBUF ? 'VIRQ_TBUF' : 'poll');
    };
    d.vcpu.entryHooks.push(() => this.tick());
  }

  private wake(at: bigint, cause: HandledRequest['wokenBy']): void {
    let i = this.wakes.length;
    while (i > 0 && this.wakes[i - 1].at > at) i--;
    this.wakes.splice(i, 0, { at, cause });
  }

  /** At each guest VM entry: run Dom0 for every wake-up whose time has come, in order. */
  tick(): void {
    const now = this.d.machine.vcycles;
    while (this.nextPoll <= now) { this.wake(this.nextPoll, 'poll'); this.nextPoll += this.pollCycles; }
    while (this.wakes.length && this.wakes[0].at <= now) {
      const w = this.wakes.shift()!;
      this.service(w.at, w.cause);
    }
  }

  /**
   * The xentrace daemon's pass at virtual time `at`: drain the buffers and hand on each VMI
   * request recorded by then. Records written later (the guest ran on past `at` before this
   * host-side pass) wait for the wake-up that their own notification, or the next poll, brings.
   */
  service(at: bigint, cause: HandledRequest['wokenBy']): void {
    this.consumer.poll();
    const recs = this.consumer.records;
    for (; this.seen < recs.length; this.seen++) {
      const r = recs[this.seen];
      if (r.event !== TRC_VMI_REQUEST) continue;
      if (r.tsc !== undefined && r.tsc > at) break;
      const request = parseVmiRequest(r.data, r.tsc);
      const h: HandledRequest = { request, wokenBy: cause, detectedAt: request.tsc, dom0At: at };
      this.handled.push(h);
      this.onRequest(h);
    }
  }

  /** At the end of a run: drain what is left (the daemon's final read). */
  flush(): void { this.service(this.d.machine.vcycles, 'poll'); this.wakes = []; }
}
