// The timer queue (src/xen/timer.ts, after Xen's xen/common/timer.c), the
// periodic timer on it (src/xen/hvm/vpt.ts, after xen/arch/x86/hvm/vpt.c) and
// the interrupt controller it raises its line through (src/xen/hvm/irq.ts,
// after xen/arch/x86/hvm/irq.c).
import { describe, it, expect } from 'vitest';
import { TimerQueue, type Timer } from '../src/xen/timer.js';
import { PeriodicTimer } from '../src/xen/hvm/vpt.js';
import { HvmIrq } from '../src/xen/hvm/irq.js';
import type { Vcpu } from '../src/xen/vcpu.js';

/** A queue whose callbacks log "name@now(expires)". */
function logged() {
  const q = new TimerQueue();
  const log: string[] = [];
  const mk = (name: string, cpu = 0, fn?: (t: Timer, now: bigint) => void) =>
    q.initTimer((t, now) => { log.push(`${name}@${now}(${t.expires})`); fn?.(t, now); }, cpu);
  return { q, log, mk };
}

describe('xen/common/timer.c: init_timer, set_timer, stop_timer, kill_timer, timer_softirq_action', () => {
  it('timer_softirq_action runs the timers whose deadline has come, earliest first, and no others', () => {
    const { q, log, mk } = logged();
    const a = mk('a'), b = mk('b'), c = mk('c');
    q.setTimer(c, 300n); q.setTimer(a, 100n); q.setTimer(b, 200n);
    expect(q.nextDeadline(0)).toBe(100n);
    expect(q.timerSoftirqAction(0, 99n)).toBe(0);
    expect(q.timerSoftirqAction(0, 200n)).toBe(2);            // a deadline equal to now has come
    expect(log).toEqual(['a@200(100)', 'b@200(200)']);
    expect(q.timerIsActive(a)).toBe(false);
    expect(q.timerIsActive(c)).toBe(true);
    expect(q.nextDeadline(0)).toBe(300n);
  });

  it('equal deadlines fire in the order set_timer was called; setting again moves a timer behind its equals', () => {
    const { q, log, mk } = logged();
    const a = mk('a'), b = mk('b'), c = mk('c');
    q.setTimer(b, 50n); q.setTimer(a, 50n); q.setTimer(c, 50n);
    q.setTimer(b, 50n);                                       // re-armed for the same instant: now the last
    q.timerSoftirqAction(0, 50n);
    expect(log).toEqual(['a@50(50)', 'c@50(50)', 'b@50(50)']);
  });

  it('set_timer on an active timer moves it (earlier or later); stop_timer cancels; a stopped timer can be set again', () => {
    const { q, log, mk } = logged();
    const a = mk('a'), b = mk('b');
    q.setTimer(a, 100n); q.setTimer(b, 200n);
    q.setTimer(b, 50n);                                       // re-arm earlier
    expect(q.nextDeadline(0)).toBe(50n);
    q.setTimer(a, 500n);                                      // re-arm later
    q.stopTimer(b);
    expect(q.timerIsActive(b)).toBe(false);
    expect(q.nextDeadline(0)).toBe(500n);
    q.timerSoftirqAction(0, 400n);
    expect(log).toEqual([]);
    q.setTimer(b, 450n);
    q.timerSoftirqAction(0, 1000n);
    expect(log).toEqual(['b@1000(450)', 'a@1000(500)']);
    expect(q.nextDeadline(0)).toBeUndefined();
  });

  it('kill_timer: the timer never runs again and cannot be set', () => {
    const { q, log, mk } = logged();
    const a = mk('a');
    q.setTimer(a, 10n);
    q.killTimer(a);
    q.timerSoftirqAction(0, 100n);
    expect(log).toEqual([]);
    expect(() => q.setTimer(a, 20n)).toThrow(/killed/);
  });

  it('each CPU has its own timers: the softirq of one CPU runs only its timers, and its deadline is its own', () => {
    const { q, log, mk } = logged();
    const a = mk('a', 0), b = mk('b', 1);
    q.setTimer(a, 300n); q.setTimer(b, 100n);
    expect(q.nextDeadline(0)).toBe(300n);
    expect(q.nextDeadline(1)).toBe(100n);
    expect(q.nextDeadline(2)).toBeUndefined();
    q.timerSoftirqAction(0, 1000n);
    expect(log).toEqual(['a@1000(300)']);
    q.timerSoftirqAction(1, 1000n);
    expect(log).toEqual(['a@1000(300)', 'b@1000(100)']);
  });

  it('a callback that sets its timer again for a deadline that has also come runs again, in deadline order with the others', () => {
    const { q, log, mk } = logged();
    const p = mk('p', 0, (t) => q.setTimer(t, t.expires + 100n));   // a periodic timer, one period each run
    const x = mk('x');
    q.setTimer(p, 100n); q.setTimer(x, 250n);
    expect(q.timerSoftirqAction(0, 320n)).toBe(4);
    expect(log).toEqual(['p@320(100)', 'p@320(200)', 'x@320(250)', 'p@320(300)']);
    expect(q.nextDeadline(0)).toBe(400n);
  });

  it('the heap keeps (deadline, set order) under random set/stop (a reference sort agrees)', () => {
    const q = new TimerQueue();
    let seed = 12345;
    const rnd = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
    const fired: Timer[] = [];
    const ts = Array.from({ length: 64 }, () => q.initTimer((t) => fired.push(t), 0));
    const armed = new Map<Timer, { at: bigint; order: number }>();
    let order = 0;
    for (let i = 0; i < 2000; i++) {
      const t = ts[rnd(ts.length)];
      if (rnd(4) === 0) { q.stopTimer(t); armed.delete(t); } else {
        const at = BigInt(rnd(50));
        q.setTimer(t, at); armed.set(t, { at, order: order++ });
      }
      expect(q.nextDeadline(0)).toBe(armed.size ? [...armed.values()].reduce((m, e) => e.at < m ? e.at : m, 1n << 60n) : undefined);
    }
    q.timerSoftirqAction(0, 1000n);
    const want = [...armed.entries()].sort((a, b) => Number(a[1].at - b[1].at) || a[1].order - b[1].order).map((e) => ts.indexOf(e[0]));
    expect(want.length).toBeGreaterThan(32);
    expect(fired.map((t) => ts.indexOf(t))).toEqual(want);
  });
});

describe('xen/arch/x86/hvm/vpt.c on the queue, delivered through hvm/irq.c (no_missed_ticks_pending)', () => {
  const v0 = { id: 0 } as Vcpu, v1 = { id: 1 } as Vcpu;

  it('pt_timer_fn raises the line at each deadline; hvm_vcpu_ack_pending_irq lowers it and pt_intr_post counts the tick', () => {
    const q = new TimerQueue(), irq = new HvmIrq();
    const pt = new PeriodicTimer(q, irq, { period: 1000n, vector: 0x20, vcpu: 0, cpu: 0, start: 0n });
    expect(q.nextDeadline(0)).toBe(1000n);
    expect(irq.hvmVcpuHasPendingIrq(v0)).toBeUndefined();
    q.timerSoftirqAction(0, 1000n);
    expect(pt.pending).toBe(true);
    expect(q.nextDeadline(0)).toBe(2000n);
    const intack = irq.hvmVcpuHasPendingIrq(v0)!;
    expect(intack).toEqual({ source: 'vector', vector: 0x20 });
    expect(irq.hvmVcpuHasPendingIrq(v1)).toBeUndefined();        // the line is wired to vCPU 0
    expect(irq.hvmVcpuAckPendingIrq(v0, intack)).toEqual(intack);
    expect(pt.pending).toBe(false);
    expect(pt.injected).toBe(1);
    expect(irq.hvmVcpuAckPendingIrq(v0, intack)).toBeUndefined(); // no longer pending
    expect(pt.injected).toBe(1);
  });

  it('ticks that fall due while one is pending are missed, not queued; the next deadline stays on the period grid', () => {
    const q = new TimerQueue(), irq = new HvmIrq();
    const pt = new PeriodicTimer(q, irq, { period: 1000n, vector: 0x20, vcpu: 0, cpu: 0, start: 500n });
    q.timerSoftirqAction(0, 3700n);                                // deadlines 1500, 2500, 3500 have passed
    expect([pt.fired, pt.missed, pt.next]).toEqual([3, 2, 4500n]);
    q.timerSoftirqAction(0, 4500n);                                // one more while the first is still pending
    expect([pt.fired, pt.missed]).toEqual([4, 3]);
    irq.hvmVcpuAckPendingIrq(v0, irq.hvmVcpuHasPendingIrq(v0)!);
    expect([pt.injected, pt.pending]).toEqual([1, false]);
  });

  it('lines are taken in line order (lower first), each with its own vector', () => {
    const irq = new HvmIrq();
    const a = irq.connect(0, 0x20), b = irq.connect(0, 0x30);
    b.assert();
    expect(irq.hvmVcpuHasPendingIrq(v0)?.vector).toBe(0x30);
    a.assert();
    expect(irq.hvmVcpuHasPendingIrq(v0)?.vector).toBe(0x20);
    a.deassert();
    expect(irq.hvmVcpuHasPendingIrq(v0)?.vector).toBe(0x30);
  });
});
