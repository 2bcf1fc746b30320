// `bench exits` (issue 15, item 5): each configuration's guest takes exactly one VM exit per loop
// iteration -- CPUID and VMCALL exit unconditionally, RDTSC with "RDTSC exiting" on, IN/OUT under
// the I/O bitmaps (Intel SDM Vol. 3C 26.1.2 and 26.1.3) -- and its baseline none; the bench reports
// those counts exactly and the host times as plain numbers. Timings are never asserted.
import { describe, it, expect } from 'vitest';
import { benchExits, formatExitBench, runExitGuest, EXIT_KINDS } from '../src/bench/exits.js';
import { getProfile, xenCosts } from '../src/xen/cost-profiles.js';
import { handlerCost } from '../src/xen/cost.js';
import {
  EXIT_REASON_CPUID, EXIT_REASON_RDTSC, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_VMCALL,
} from '../src/vmcs.js';
import { runCli } from './helpers/cli.js';

const N = 300;
const REASON = { cpuid: EXIT_REASON_CPUID, rdtsc: EXIT_REASON_RDTSC, 'rdtsc-vmi': EXIT_REASON_RDTSC, out: EXIT_REASON_IO_INSTRUCTION, in: EXIT_REASON_IO_INSTRUCTION, vmcall: EXIT_REASON_VMCALL };

describe('bench exits: one exit per iteration (SDM Vol. 3C 26.1.2, 26.1.3)', () => {
  it('each guest exits N times for its reason, plus the exit port\'s OUT; the baseline only at the exit port', () => {
    for (const kind of EXIT_KINDS) {
      const r = runExitGuest(kind, N, true), b = runExitGuest(kind, N, false);
      const io = kind === 'out' || kind === 'in';
      expect(r.exits, kind).toEqual(io ? { IO_INSTRUCTION: N + 1 } : { [{ cpuid: 'CPUID', rdtsc: 'RDTSC', 'rdtsc-vmi': 'RDTSC', vmcall: 'VMCALL' }[kind as string]!]: N, IO_INSTRUCTION: 1 });
      expect(b.exits, kind).toEqual({ IO_INSTRUCTION: 1 });
      // An instruction that exits does not retire in the guest (the handler skips it): both loops
      // retire the same instructions. Each exit costs the profile's round trip and handler in virtual time.
      expect(r.insns, kind).toBe(b.insns);
      const c = xenCosts(getProfile('haswell'));
      expect(r.vcycles - b.vcycles, kind).toBeGreaterThanOrEqual(N * (c.vmexitRoundTrip + handlerCost(c, REASON[kind])));
      // Virtual time does not depend on the host: a second run retires the same in the same cycles.
      const again = runExitGuest(kind, N, true);
      expect([again.insns, again.vcycles], kind).toEqual([r.insns, r.vcycles]);
    }
  });

  it('reports per reason: exact exit counts, the runs asked for, and finite host figures', () => {
    const b = benchExits({ iterations: N, repeat: 3 });
    expect(b).toMatchObject({ profile: 'haswell', iterations: N, repeat: 3 });
    expect(b.reasons.map((r) => r.kind)).toEqual([...EXIT_KINDS]);
    for (const r of b.reasons) {
      expect(r.exits, r.kind).toBe(N);
      expect(r.other_exits, r.kind).toBe(1);
      expect(r.reason).toBe({ cpuid: 'CPUID', rdtsc: 'RDTSC', 'rdtsc-vmi': 'RDTSC', out: 'IO_INSTRUCTION', in: 'IO_INSTRUCTION', vmcall: 'VMCALL' }[r.kind]);
      expect(r.runs_ms.length).toBe(3);
      expect(r.baseline_runs_ms.length).toBe(3);
      for (const x of [r.host_ns_per_exit, r.best_ns_per_exit, r.host_ns_per_iteration, r.baseline_ns_per_iteration, ...r.runs_ms, ...r.baseline_runs_ms]) {
        expect(Number.isFinite(x), r.kind).toBe(true);
      }
    }
    // The same guests give the same virtual cycles in a second bench.
    const again = benchExits({ iterations: N, repeat: 1, kinds: ['rdtsc'] });
    expect(again.reasons[0].vcycles_per_iteration).toBe(b.reasons[1].vcycles_per_iteration);
    const text = formatExitBench(b);
    for (const r of b.reasons) expect(text).toContain(r.what);
  });

  it('`bench exits --json` through the CLI', async () => {
    const r = await runCli(['bench', 'exits', '--json', '--exits', '200', '--repeat', '1']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.iterations).toBe(200);
    expect(j.reasons.map((x: { exits: number }) => x.exits)).toEqual([200, 200, 200, 200, 200, 200]);
    const bad = await runCli(['bench', 'exits', '--exits', '0']);
    expect(bad.code).toBe(2);
  });
});
