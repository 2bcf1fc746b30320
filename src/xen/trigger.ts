// The paper's mechanism in the hypervisor, attached to a domain: altp2m views
// with mirror indices (the EPTP list, VMFUNC enabled), the VMFUNC-aware RDTSC
// emulation (via vmexit/rdtsc.ts's hook), Xen's trace buffers with the HVM
// trace points, and the notification of Dom0: the paper's immediate VIRQ per
// request, or stock Xentrace's VIRQ_TBUF at half full (with the daemon's poll).
import type { Domain } from './domain.js';
import type { Vcpu } from './vcpu.js';
import { Altp2m } from './altp2m.js';
import { doAltp2mOp, type Altp2mOpResult } from './altp2m-op.js';
import { EptTable, EPT_RWX } from './ept.js';
import { TraceBuffers } from './trace.js';
import * as E from './trace-events.js';
import { checkVmiRequest, vmiRequestTraceData, type VmiRequest } from './vmfunc-awareness.js';
import { SECONDARY_EXEC_ENABLE_VMFUNC } from '../vmcs.js';
import { VmEventRing, VMI_DROP_RATE } from './vm_event.js';

export type NotifyMode = 'immediate' | 'tbuf';

export interface VmiTriggerOptions {
  /** Normal EPT views (each with a mirror at 10+k); at least 2 so that the TVM's default request (index 11) exists. */
  views?: number;
  /** How Dom0 hears of trace records: the paper's VIRQ per VMI request, or stock Xen's VIRQ_TBUF at half full. */
  notify?: NotifyMode;
  /** Trace pages per CPU (a power of two). */
  tracePages?: number;
  /** Record the HVM trace points (VM entry/exit, RDTSC, hypercalls, injections), as `xentrace -e all` would. */
  traceHvm?: boolean;
  /** Request slots of the domain's VMI request ring (vm_event.ts; default: unbounded, `run` passes DEFAULT_VMI_QUEUE). */
  queue?: number;
  /** Requests admitted per second of virtual time (default: no limit, `run` passes DEFAULT_VMI_RATE). */
  rate?: number;
}

/** Virtual interrupt numbers (public/xen.h): VIRQ_TBUF = 4; ours for VMI requests is a spare global VIRQ. */
export const VIRQ_TBUF = 4;
export const VIRQ_VMI = 12;

export class VmiTrigger {
  readonly altp2m: Altp2m;
  readonly trace: TraceBuffers;
  readonly notify: NotifyMode;
  readonly traceHvm: boolean;
  readonly requests: VmiRequest[] = [];
  /** The domain's request ring: slots held until Dom0 answers, the rate, the lost requests' counts. */
  readonly ring: VmEventRing;
  /** Dom0's event channel: called with the VIRQ and the virtual time it was sent. */
  onVirq: ((virq: number, at: bigint) => void) | undefined;
  /** d->arch.altp2m_active (HVMOP_altp2m set_domain_state). */
  active = true;

  constructor(private readonly d: Domain, opts: VmiTriggerOptions = {}) {
    const m = d.machine;
    this.notify = opts.notify ?? 'immediate';
    this.traceHvm = opts.traceHvm ?? false;
    this.ring = new VmEventRing({ slots: opts.queue, ratePerSec: opts.rate, cyclesPerSec: d.tscKhz * 1000 });
    // Each view maps guest RAM like the host p2m (2 MiB pages where aligned, as Domain builds view 0).
    const fill = (t: EptTable) => {
      const big = Math.floor(d.memBytes / (2 << 20)) * (2 << 20);
      if (big) t.map(0n, BigInt(d.ramBase), BigInt(big), EPT_RWX, '2m');
      if (d.memBytes > big) t.map(BigInt(big), BigInt(d.ramBase + big), BigInt(d.memBytes - big), EPT_RWX, '4k');
    };
    this.altp2m = new Altp2m(m, d.frames, fill, { views: opts.views ?? 2, mirrors: true, pool: d.p2mPool, host: d.p2m });
    this.trace = new TraceBuffers(m, d.frames, {
      pagesPerCpu: opts.tracePages ?? 32, domid: d.id,
      onHighWater: () => { if (this.notify === 'tbuf') this.onVirq?.(VIRQ_TBUF, m.vcycles); },
    });
    m.vmwrite('EPTP_LIST_ADDR', this.altp2m.listAddr);
    m.vmwrite('VM_FUNCTION_CONTROL', 1); // EPTP switching
    m.vmwrite('EPT_POINTER', this.altp2m.eptp(0)!);
    m.vmwrite('EPTP_INDEX', 0);
    for (const v of d.vcpus) v.setSecondaryExecControl(SECONDARY_EXEC_ENABLE_VMFUNC, true);
    d.trigger = this;
    for (const v of d.vcpus) {
      // The vCPU starts running: Xen's scheduler traces runnable -> running.
      this.record(E.runstateChange(E.RUNSTATE_RUNNABLE, E.RUNSTATE_RUNNING), m.vcycles, [(v.id & 0xffff) | ((d.id & 0xffff) << 16)], true);
      if (this.traceHvm) {
        v.entryHooks.push(() => this.record(E.TRC_HVM_VMENTRY, m.vcycles, []));
        v.exitHooks.push((_v, reason) => {
          const rip = m.vmread('GUEST_RIP');
          this.record(E.TRC_HVM_VMEXIT64, m.vcycles, [reason & 0xffff, Number(rip & 0xffffffffn), Number(rip >> 32n)]);
        });
      }
    }
  }

  /** trace_var(): HVM points only when enabled; scheduler and VMI records always. */
  record(event: number, tsc: bigint | undefined, data: number[], always = false): void {
    if (!always && !this.traceHvm) return;
    this.trace.trace(0, event, tsc, data);
  }

  /** Dom0 has answered a request (its program ended): the slot is free again. */
  vmEventResponse(): void { this.ring.release(); }

  /** From the RDTSC/RDTSCP handler (vmfuncAwarenessHook), before any view bookkeeping. */
  onRdtsc(v: Vcpu, tsc: bigint): void {
    const m = this.d.machine;
    if (this.traceHvm) this.record(E.TRC_HVM_RDTSC, undefined, [Number(tsc & 0xffffffffn), Number(tsc >> 32n)]);
    if (!this.active) return;
    const req = checkVmiRequest(m, this.altp2m, this.d.id, v.id, m.vcycles);
    if (!req) return;
    // The request needs a slot in the ring, and cannot wait for one (vm_event.ts).
    const why = this.ring.claim(req.tsc);
    if (why) {
      this.record(E.TRC_VMI_REQUEST_DROPPED, req.tsc, [...vmiRequestTraceData(req), why], true);
      if (this.ring.dropped === 1) {
        this.d.log(`d${this.d.id}v${v.id} VMI request lost: ${why === VMI_DROP_RATE ? `over the rate (${this.ring.ratePerSec}/s)` : `the request ring is full (${this.ring.slots} slots)`}; further losses are counted`);
      }
      return;
    }
    // A record the trace buffer drops never reaches Dom0 (LOST_RECORDS counts it): no slot is held for it.
    if (!this.trace.trace(0, E.TRC_VMI_REQUEST, req.tsc, vmiRequestTraceData(req))) this.ring.cancel();
    this.requests.push(req);
    this.d.log(`d${this.d.id}v${v.id} VMI request: EPTP index ${req.eptpIndex} (parameter ${req.parameter}) at rip ${req.rip.toString(16)}`);
    if (this.notify === 'immediate') this.onVirq?.(VIRQ_VMI, m.vcycles);
  }

  /**
   * HVMOP_altp2m after the domain lookup (src/xen/altp2m-op.ts: struct xen_hvm_altp2m_op, Xen's
   * checks and errno order). Returns 0 / -errno; altp2mOpFull also says whether to copy it back.
   */
  altp2mOp(v: Vcpu, op: DataView): number { return this.altp2mOpFull(v, op).rc; }
  altp2mOpFull(v: Vcpu, op: DataView): Altp2mOpResult { return doAltp2mOp(this, v, op); }
}
