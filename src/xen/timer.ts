// The hypervisor's timers on virtual time, in the shape of Xen's
// xen/common/timer.c: init_timer / set_timer / stop_timer / kill_timer, an
// expiry callback, and per physical CPU a binary heap keyed by deadline
// (TSC cycles of the one virtual clock, Machine.vcycles). timer_softirq_action
// runs a CPU's timers that are due; the earliest deadline of the CPU a vCPU
// runs on is what the VMX-preemption timer is armed with (Xen's
// reprogram_timer arms the local APIC timer the same way).
//
// Differences from Xen, on purpose: the clock is exact, so a timer is due
// when its deadline has come (expires <= now, no timer_slop); equal deadlines
// fire in the order set_timer was called (Xen's heap leaves that order open,
// a deterministic model cannot); no locks and no migrate_timer (one host
// thread runs every CPU).

export type TimerStatus = 'inactive' | 'in_heap' | 'killed';

/** struct timer: a callback due at `expires` on CPU `cpu`. */
export class Timer {
  expires = 0n;
  status: TimerStatus = 'inactive';
  /** Order of the set_timer call: breaks ties between equal deadlines. */
  seq = 0;
  /** Index in its CPU's heap while status is 'in_heap' (Xen's heap_offset). */
  heapOffset = -1;
  constructor(readonly fn: (t: Timer, now: bigint) => void, readonly cpu: number) {}
}

function before(a: Timer, b: Timer): boolean {
  return a.expires < b.expires || (a.expires === b.expires && a.seq < b.seq);
}

export class TimerQueue {
  /** Per CPU: a min-heap of active timers (Xen's per_cpu(timers).heap). */
  private readonly heaps = new Map<number, Timer[]>();
  private seq = 0;

  /** init_timer(): a timer for `cpu`, inactive until set_timer. */
  initTimer(fn: (t: Timer, now: bigint) => void, cpu: number): Timer { return new Timer(fn, cpu); }

  /** set_timer(): (re-)arm for `expires`; an active timer moves to the new deadline. */
  setTimer(t: Timer, expires: bigint): void {
    if (t.status === 'killed') throw new Error('set_timer on a killed timer');
    if (t.status === 'in_heap') this.removeEntry(t);
    t.expires = expires;
    t.seq = this.seq++;
    this.addEntry(t);
  }

  /** stop_timer(): deactivate; its callback will not run until set again. */
  stopTimer(t: Timer): void { if (t.status === 'in_heap') this.removeEntry(t); }

  /** kill_timer(): deactivate for good. */
  killTimer(t: Timer): void { this.stopTimer(t); t.status = 'killed'; }

  /** timer_is_active(). */
  timerIsActive(t: Timer): boolean { return t.status === 'in_heap'; }

  /** The earliest deadline on `cpu` (what reprogram_timer arms), or undefined when no timer is active there. */
  nextDeadline(cpu: number): bigint | undefined {
    const h = this.heaps.get(cpu);
    return h && h.length ? h[0].expires : undefined;
  }

  /**
   * timer_softirq_action(): run every timer on `cpu` whose deadline has come by `now`, earliest
   * first. A callback may set its timer again (a periodic timer does); if the new deadline has
   * also come it runs again in turn. Returns the number of callbacks run.
   */
  timerSoftirqAction(cpu: number, now: bigint): number {
    const h = this.heaps.get(cpu);
    let n = 0;
    while (h && h.length && h[0].expires <= now) {
      const t = h[0];
      this.removeEntry(t);
      t.fn(t, now);   // execute_timer(): the timer is inactive while its callback runs
      n++;
    }
    return n;
  }

  // ---- the heap (Xen's add_to_heap / remove_from_heap, up_heap / down_heap) ----

  private addEntry(t: Timer): void {
    let h = this.heaps.get(t.cpu);
    if (!h) { h = []; this.heaps.set(t.cpu, h); }
    t.status = 'in_heap';
    t.heapOffset = h.length;
    h.push(t);
    this.upHeap(h, t.heapOffset);
  }

  private removeEntry(t: Timer): void {
    const h = this.heaps.get(t.cpu)!;
    const i = t.heapOffset, last = h.pop()!;
    t.status = 'inactive';
    t.heapOffset = -1;
    if (last === t) return;
    h[i] = last;
    last.heapOffset = i;
    if (i > 0 && before(last, h[(i - 1) >> 1])) this.upHeap(h, i);
    else this.downHeap(h, i);
  }

  private upHeap(h: Timer[], i: number): void {
    const t = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(t, h[p])) break;
      h[i] = h[p]; h[i].heapOffset = i;
      i = p;
    }
    h[i] = t; t.heapOffset = i;
  }

  private downHeap(h: Timer[], i: number): void {
    const t = h[i], n = h.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && before(h[c + 1], h[c])) c++;
      if (!before(h[c], t)) break;
      h[i] = h[c]; h[i].heapOffset = i;
      i = c;
    }
    h[i] = t; t.heapOffset = i;
  }
}
