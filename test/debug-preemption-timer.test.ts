// The VMX-preemption timer as the debugger shows it. SDM Vol. 3C, 25.5.1: the timer counts down
// at the TSC rate shifted right by IA32_VMX_MISC[4:0]; our CPU reports 0 (assembly/vmx.ts), so one
// tick is one TSC cycle. `vmcs` must therefore show, in cycles, exactly what the hypervisor armed
// at the last VM entry (src/xen/vcpu.ts armPreemptionTimer, called by src/xen/sched.ts prepareEntry), and the timer's exit must come that many
// cycles after the entry.
import { describe, it, expect, beforeAll } from 'vitest';
import { DebugSession, Debugger, Output } from '../src/debug/index.js';

interface Armed { at: bigint; deadline: bigint }

describe('VMX-preemption timer (SDM Vol. 3C 25.5.1, IA32_VMX_MISC[4:0] = 0): vmcs shows the deadline Xen armed', () => {
  let s: DebugSession, dbg: Debugger;
  const lines: string[] = [];
  const armed: Armed[] = [];
  beforeAll(async () => {
    s = await DebugSession.create();
    dbg = new Debugger(s, new Output((t) => { lines.push(t); }));
    dbg.out.showGuest = false;
    // One slice per resume: the debugger itself never re-arms the timer between an entry and its exit.
    s.sliceInsns = 1n << 40n;
    // The hypervisor's armed deadline: what Vcpu.armPreemptionTimer returns (the virtual time the
    // timer fires), and the time it armed it (src/xen/sched.ts prepareEntry calls it before the entry).
    const arm = s.v.armPreemptionTimer.bind(s.v);
    s.v.armPreemptionTimer = (d) => { const at = s.m.vcycles; const deadline = arm(d); armed.push({ at, deadline }); return deadline; };
  });

  /** The field's value and the cycles `vmcs` shows for it. */
  async function shown(): Promise<{ value: bigint; cycles: bigint }> {
    const from = lines.length;
    expect((await dbg.execute('vmcs VMX_PREEMPTION_TIMER_VALUE')).ok).toBe(true);
    const text = lines.slice(from).join('');
    const m = /^VMX_PREEMPTION_TIMER_VALUE\s+\(0x482e\)\s+= 0x([0-9a-f]+)\s+\(([\d,]+) cycles\)\n$/.exec(text);
    expect(m, text).not.toBeNull();
    return { value: BigInt('0x' + m![1]), cycles: BigInt(m![2].replace(/,/g, '')) };
  }

  it('at an RDTSC exit: the cycles shown are the ticks armed at the entry', async () => {
    expect((await dbg.execute('break exit RDTSC')).ok).toBe(true);
    expect((await dbg.execute('continue')).ok).toBe(true);
    expect(s.pendingExit?.name).toBe('RDTSC');
    const last = armed[armed.length - 1];
    const { value, cycles } = await shown();
    expect(cycles).toBe(last.deadline - last.at);
    expect(cycles).toBe(value);
    expect(cycles).toBeGreaterThan(0n);
  });

  it('at the timer\'s own exit: the entry\'s time plus the cycles shown is when it fired', async () => {
    expect((await dbg.execute('delete')).ok).toBe(true);
    expect((await dbg.execute('break exit PREEMPTION_TIMER')).ok).toBe(true);
    expect((await dbg.execute('continue')).ok).toBe(true);
    expect(s.pendingExit?.name).toBe('PREEMPTION_TIMER');
    const last = armed[armed.length - 1];
    const { cycles } = await shown();
    expect(cycles).toBe(last.deadline - last.at);
    // The CPU checks the deadline between instructions: it fires at the first boundary at or past it.
    const fired = s.pendingExit!.vcycles;
    expect(fired).toBeGreaterThanOrEqual(last.at + cycles);
    expect(fired - (last.at + cycles)).toBeLessThan(1000n);
  });
});
