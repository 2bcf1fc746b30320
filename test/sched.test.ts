// The scheduler (src/xen/sched.ts, after Xen's xen/common/sched/core.c and
// vm_event.c's pause count) on the one virtual clock (src/xen/timer.ts),
// driving small guests assembled with GNU as and booted by the boot protocol.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { prepareRun, type PreparedRun } from '../src/run.js';
import { VPF_blocked } from '../src/xen/sched.js';
import { RUNSTATE_RUNNING, RUNSTATE_BLOCKED, RUNSTATE_OFFLINE } from '../src/xen/trace-events.js';
import { EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, EXIT_REASON_HLT } from '../src/vmcs.js';
import { VIRQ_VMI } from '../src/xen/trigger.js';
import { dom0Costs } from '../src/xen/cost-profiles.js';
import { asm, haveAssembler, tickLoop } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-sched-'));
let seq = 0;

function prepare(src: string, opts: { timerPeriod?: bigint; vmi?: boolean } = {}): PreparedRun & { log: string[] } {
  const file = join(dir, `g${seq++}.elf`);
  writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
  const log: string[] = [];
  const p = prepareRun({ image: file, systemMap: false, timerPeriod: opts.timerPeriod, onLog: (l) => log.push(l), vmi: opts.vmi ? {} : false });
  return { ...p, log };
}

const EXIT0 = 'xor eax, eax\nmov dx, 0x501\nout dx, eax\n';
/** Counts to `n` in ecx, then exits with status 0. */
const spin = (n: number) => `mov ecx, ${n}\n1: dec ecx\njnz 1b\n${EXIT0}`;
/** Counts `n` timer ticks in a STI; HLT loop, then exits with status 0. */
const hltLoop = (n: number) => tickLoop(n, EXIT0);

describe.skipIf(!haveAssembler())('xen/common/sched/core.c: turns, runstates and pauses on virtual time', () => {
  it('vm_event_vcpu_pause: a vCPU waiting for Dom0 does not run until vm_event_vcpu_unpause wakes it', () => {
    const { d, log } = prepare(spin(1000));
    const v = d.vcpus[0], m = d.machine;
    d.sched.vmEventVcpuPause(v);
    expect(d.sched.vcpuRunnable(v)).toBe(false);
    const t0 = m.vcycles;
    expect(d.sched.run({ maxInsns: 100_000n })).toEqual({ kind: 'paused' });
    expect(m.insnsRetired).toBe(0n);                 // not one instruction, and the clock stood still
    expect(m.vcycles).toBe(t0);
    expect(v.runstate).toBe(RUNSTATE_OFFLINE);
    d.sched.vmEventVcpuUnpause(v);
    expect(d.sched.run({ maxInsns: 100_000n })).toEqual({ kind: 'shutdown' });
    expect(m.insnsRetired).toBeGreaterThan(2000n);
    // An answer with no event waiting is refused (Xen: "Too many unpause attempts"); the count stays at 0.
    d.sched.vmEventVcpuUnpause(v);
    expect(v.vmEventPauseCount).toBe(0);
    expect(v.pauseCount).toBe(0);
    expect(log.some((l) => /vm_event: Too many unpause attempts/.test(l))).toBe(true);
  });

  it('vcpu_pause and domain_pause nest: the vCPU runs again only when every pause is undone', () => {
    const { d } = prepare(spin(1000));
    const v = d.vcpus[0];
    d.sched.domainPause(); d.sched.domainPause(); d.sched.vcpuPause(v);
    d.sched.domainUnpause();
    expect(d.sched.run({})).toEqual({ kind: 'paused' });
    d.sched.domainUnpause();
    expect(d.sched.run({})).toEqual({ kind: 'paused' });
    d.sched.vcpuUnpause(v);
    expect(d.sched.run({})).toEqual({ kind: 'shutdown' });
    expect(v.runstate).toBe(RUNSTATE_RUNNING);
    expect(() => d.sched.vcpuUnpause(v)).toThrow(/without a pause/);
  });

  it('vcpu_block (HLT): the vCPU is blocked until the next deadline on its CPU, the clock jumps there, the timer wakes it', () => {
    const period = 100_000n;
    const { d } = prepare(hltLoop(3), { timerPeriod: period });
    const v = d.vcpus[0], m = d.machine;
    // Any timer on the vCPU's CPU is an event it wakes for: one between the first and second tick.
    const seen: { now: bigint; runstate: number; blocked: boolean }[] = [];
    const t = d.timers.initTimer((_t, now) => seen.push({ now, runstate: v.runstate, blocked: (v.pauseFlags & VPF_blocked) !== 0 }), v.processor);
    d.timers.setTimer(t, 150_000n);
    expect(d.sched.run({ maxInsns: 1_000_000n })).toEqual({ kind: 'shutdown' });
    // It ran inside the block, at its own deadline: the clock had jumped exactly there.
    expect(seen).toEqual([{ now: 150_000n, runstate: RUNSTATE_BLOCKED, blocked: true }]);
    expect(v.runstate).toBe(RUNSTATE_RUNNING);
    expect(v.timer.injected).toBe(3);
    // Woken early by the extra timer, the guest halts once more for its second tick: 4 HLT exits for 3 ticks.
    expect(v.stats.exits.get(EXIT_REASON_HLT)).toBe(4);
    expect(m.vcycles).toBeGreaterThanOrEqual(3n * period);
    expect(m.vcycles).toBeLessThan(3n * period + 10_000n);
  });

  it('Dom0\'s timers run at the first VM entry at or after their deadline, see that deadline, and arm no preemption timer', () => {
    const base = prepare(spin(200_000), { timerPeriod: 50_000n });
    base.d.sched.run({});
    const plainExits = base.d.vcpus[0].stats.exits.get(EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED);

    const { d } = prepare(spin(200_000), { timerPeriod: 50_000n });
    const v = d.vcpus[0], m = d.machine;
    const entries: bigint[] = [];
    v.entryHooks.push(() => entries.push(m.vcycles));
    const fired: { expires: bigint; now: bigint; entriesBefore: number }[] = [];
    const t = d.timers.initTimer((tt, now) => fired.push({ expires: tt.expires, now, entriesBefore: entries.length }), d.sched.dom0Cpu);
    const at = 123_457n;                            // off the guest timer's grid: no exit comes at this instant
    d.timers.setTimer(t, at);
    expect(d.sched.run({})).toEqual({ kind: 'shutdown' });
    expect(fired).toHaveLength(1);
    const f = fired[0];
    expect(f.expires).toBe(at);
    expect(f.now).toBeGreaterThan(at);
    expect(f.now).toBe(entries[f.entriesBefore - 1]);            // during that entry (after its entry hooks)
    expect(entries[f.entriesBefore - 2]).toBeLessThan(at);       // and the entry before came too early
    // Dom0's CPU is not the guest's: the guest took no extra exit for it.
    expect(v.stats.exits.get(EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED)).toBe(plainExits);
    expect(m.vcycles).toBe(base.d.machine.vcycles);
  });

  it('Dom0\'s VIRQ wake-up and its poll are timers on Dom0\'s CPU; a VIRQ due at a poll\'s instant makes the pass', () => {
    const { d, dom0 } = prepare(spin(1000), { vmi: true });
    const mech = d.trigger!;
    expect(d.timers.nextDeadline(d.sched.dom0Cpu)).toBe(d.machine.vcycles + BigInt(100 * d.tscKhz));  // the 100 ms poll
    // A VIRQ sent so that its delivery lands exactly on the first poll.
    const poll = d.timers.nextDeadline(d.sched.dom0Cpu)!;
    const c = dom0Costs(d.profile);
    mech.onVirq!(VIRQ_VMI, poll - BigInt(c.virqDelivery + c.dom0Wakeup));
    const woken: string[] = [];
    dom0!.service = (at, cause) => { woken.push(`${cause}@${at}`); };
    d.machine.addVcycles(poll + 1n - d.machine.vcycles);
    d.sched.dom0Turn();
    expect(woken).toEqual([`VIRQ_VMI@${poll}`]);
    expect(d.timers.nextDeadline(d.sched.dom0Cpu)).toBe(poll + BigInt(100 * d.tscKhz));
  });
});
