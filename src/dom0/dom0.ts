// Dom0's side of the mechanism: an event channel bound to the VIRQs the
// hypervisor raises (VIRQ_TBUF, and the paper's per-request VIRQ), the
// xentrace daemon (woken by a VIRQ or by its 100 ms poll) draining the trace
// buffers, and the hand-off of each VMI request to the launcher. Dom0 runs on
// its own (virtual) CPU: each wake-up -- a VIRQ's delivery, each poll -- is a
// timer on that CPU (src/xen/timer.ts), which the scheduler runs at the
// guest's VM entries once its deadline has come (src/xen/sched.ts, dom0Turn),
// at the virtual instant it was due; the guest never waits for it.
import type { Domain } from '../xen/domain.js';
import type { Timer } from '../xen/timer.js';
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
  /**
   * Whether Dom0 answers each request as it reads it (the request's slot in the hypervisor's ring,
   * src/xen/vm_event.ts, comes back at once). The launch module sets this false and answers at each
   * program's end (VmiTrigger.vmEventResponse), so the ring bounds the requests in flight.
   */
  respondOnRead = true;
  /** VIRQ deliveries to come, one timer each. */
  private readonly virqWakes = new Set<Timer>();
  private seen = 0;

  constructor(private readonly d: Domain, private readonly mech: VmiTrigger,
              private readonly onRequest: (h: HandledRequest) => void,
              costs: Dom0Costs = dom0Costs(d.profile)) {
    this.consumer = new XentraceConsumer(d.machine, mech.trace.tInfo, mech.trace.cpus);
    const pollCycles = BigInt(Math.round(costs.pollMs * d.tscKhz));
    const poll = d.timers.initTimer((t) => this.poll(t, pollCycles), d.sched.dom0Cpu);
    d.timers.setTimer(poll, d.machine.vcycles + pollCycles);
    mech.onVirq = (virq, at) => {
      this.wake(at + BigInt(costs.virqDelivery + costs.dom0Wakeup), virq === VIRQ_VMI ? 'VIRQ_VMI' : virq === VIRQ_TBUF ? 'VIRQ_TBUF' : 'poll');
    };
  }

  /** The event channel's upcall reaches the daemon at `at`. */
  private wake(at: bigint, cause: HandledRequest['wokenBy']): void {
    const timers = this.d.timers;
    const t = timers.initTimer(() => {
      this.virqWakes.delete(t);
      timers.killTimer(t);
      this.service(t.expires, cause);
    }, this.d.sched.dom0Cpu);
    this.virqWakes.add(t);
    timers.setTimer(t, at);
  }

  /**
   * The daemon's poll timer: a pass every period. When a VIRQ reaches the daemon at the same
   * instant, the daemon's poll() returns for the event channel rather than the timeout, so that
   * wake-up makes the pass.
   */
  private poll(t: Timer, period: bigint): void {
    const at = t.expires;
    this.d.timers.setTimer(t, at + period);
    for (const w of this.virqWakes) if (w.expires === at) return;
    this.service(at, 'poll');
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
      if (this.respondOnRead) this.mech.vmEventResponse();
    }
  }

  /** At the end of a run: drain what is left (the daemon's final read). */
  flush(): void {
    this.service(this.d.machine.vcycles, 'poll');
    for (const t of this.virqWakes) this.d.timers.killTimer(t);
    this.virqWakes.clear();
  }
}
