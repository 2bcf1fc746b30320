// Cost profiles (every number has a source, the profile is selectable) and
// `bench trigger` (the mechanisms' latencies are ordered as the model says).
import { describe, it, expect } from 'vitest';
import { PROFILES, citedEntries, getProfile, xenCosts, dom0Costs } from '../src/xen/cost-profiles.js';
import { Domain } from '../src/xen/domain.js';
import { runTriggerCase, buildGuest, benchTrigger, formatTriggerBench } from '../src/bench/trigger.js';

// A source either says "assumed" or names one of the sources we actually have (REFERENCE.md).
const KNOWN = /assumed|the paper|SplitX|tscmode\.txt|measured here|Intel ARK|tools\/xentrace/;

describe('cost profiles', () => {
  it('has a Haswell desktop part and a recent server part; every number has a source', () => {
    expect(Object.keys(PROFILES)).toEqual(expect.arrayContaining(['haswell', 'icelake-sp', 'placeholder']));
    for (const p of Object.values(PROFILES)) {
      const entries = citedEntries(p);
      expect(entries.length).toBeGreaterThan(20);
      for (const [path, c] of entries) {
        expect(Number.isFinite(c.value) && c.value >= 0, `${p.name}.${path} = ${c.value}`).toBe(true);
        expect(c.source.trim().length, `${p.name}.${path} has no source`).toBeGreaterThan(0);
        expect(c.source, `${p.name}.${path}: "${c.source}" names no known source and does not say "assumed"`).toMatch(KNOWN);
      }
      // Everything the hypervisor and Dom0 charge comes from cited entries.
      const cited = new Set(entries.map(([k]) => k));
      for (const reason of Object.keys(xenCosts(p).handler)) expect(cited.has(`handler.${reason}`)).toBe(true);
      for (const k of ['freqKhz', 'vmexitRoundTrip', 'veDelivery', 'eventInjection', 'traceRecord', 'virqDelivery', 'dom0Wakeup', 'pollMs', 'vmiLaunch', 'vmPause']) {
        expect(cited.has(k), `${p.name}.${k}`).toBe(true);
      }
    }
    // The paper's ~1e-7 s VMFUNC at each part's frequency.
    for (const name of ['haswell', 'icelake-sp']) {
      const p = getProfile(name);
      expect(p.insn.VMFUNC!.value).toBe(Math.round(1e-7 * p.freqKhz.value * 1000));
    }
    expect(() => getProfile('pentium')).toThrow(/unknown cost profile/);
  });

  it('is selectable: the Domain takes it (default haswell) for its TSC, exit costs and Dom0 costs', () => {
    const d = new Domain({ memMiB: 4 });
    expect(d.profile.name).toBe('haswell');
    expect(d.tscKhz).toBe(3_400_000);
    expect(d.costs.vmexitRoundTrip).toBe(2000);
    const s = new Domain({ memMiB: 4, profile: 'icelake-sp' });
    expect(s.tscKhz).toBe(2_300_000);
    expect(dom0Costs(s.profile).dom0Wakeup).toBe(14_000);
    const u = new Domain({ memMiB: 4, profile: 'placeholder', tscKhz: 1_000_000 });
    expect(u.tscKhz).toBe(1_000_000); // an explicit TSC frequency wins (run.ts keeps 2 GHz)
    expect(u.costs.vmexitRoundTrip).toBe(1000);
  });
});

describe('bench trigger', () => {
  const N = 1000;
  it('encodes a guest that runs (the emitter resolves its branches)', () => {
    expect(buildGuest('vmfunc').length).toBeGreaterThan(30);
    expect(buildGuest('dom0-poll', true).length).toBeGreaterThan(30);
  });

  it('VMFUNC: the request costs the instruction class cycles (setCost applied); detection waits for the next RDTSC exit and depends on the RDTSC rate', () => {
    const fast = runTriggerCase({ mech: 'vmfunc', rdtscLoop: 10, requests: N });
    const slow = runTriggerCase({ mech: 'vmfunc', rdtscLoop: 2000, requests: N });
    const hsw = getProfile('haswell');
    expect(fast.requests).toBe(N);
    expect(fast.request_cost_cycles).toBe(hsw.insn.VMFUNC!.value + 2); // xor, mov, vmfunc
    expect(fast.rdtsc_per_s!).toBeGreaterThan(slow.rdtsc_per_s!);
    expect(slow.modelled_ns.detect.p50).toBeGreaterThan(fast.modelled_ns.detect.p50);
    expect(slow.modelled_ns.detect.p99 - slow.modelled_ns.detect.p50).toBeGreaterThan(fast.modelled_ns.detect.p99 - fast.modelled_ns.detect.p50);
    // Never faster than the RDTSC exit that notices it, never slower than one RDTSC period plus that exit.
    const exitNs = (hsw.vmexitRoundTrip.value + hsw.handler.RDTSC.value) / 3.4;
    expect(fast.modelled_ns.detect.p50).toBeGreaterThanOrEqual(exitNs);
    const periodNs = 1e9 / slow.rdtsc_per_s!;
    expect(slow.modelled_ns.detect.p99).toBeLessThan(periodNs * 1.5 + exitNs);
    // Stages are ordered; the immediate VIRQ wakes Dom0 (not its poll).
    for (const r of [fast, slow]) {
      expect(r.modelled_ns.trace!.p50).toBeGreaterThan(r.modelled_ns.detect.p50);
      expect(r.modelled_ns.notify.p50).toBeGreaterThan(r.modelled_ns.trace!.p50);
      expect(r.modelled_ns.vmi_start.p50).toBeGreaterThan(r.modelled_ns.notify.p50);
      expect(r.woken_by).toEqual({ VIRQ_VMI: N });
    }
    // Deterministic modelled numbers.
    expect(runTriggerCase({ mech: 'vmfunc', rdtscLoop: 10, requests: N }).modelled_ns).toEqual(fast.modelled_ns);
  });

  it('VMCALL detection is immediate (one exit + the hypercall handler) and independent of the RDTSC rate; the request itself costs an exit', () => {
    const hsw = getProfile('haswell');
    const a = runTriggerCase({ mech: 'vmcall', rdtscLoop: 10, requests: N });
    const b = runTriggerCase({ mech: 'vmcall', rdtscLoop: 2000, requests: N });
    const expectNs = (hsw.vmexitRoundTrip.value + hsw.handler.VMCALL.value + 1) / 3.4;
    for (const r of [a, b]) {
      expect(r.modelled_ns.detect.p50).toBeCloseTo(expectNs, 3);
      expect(r.modelled_ns.detect.p99).toBeCloseTo(expectNs, 3);
    }
    const vmfunc = runTriggerCase({ mech: 'vmfunc', rdtscLoop: 10, requests: N });
    expect(a.request_cost_cycles).toBeGreaterThan(5 * vmfunc.request_cost_cycles);
    const ve = runTriggerCase({ mech: 've', rdtscLoop: 10, requests: N });
    expect(ve.modelled_ns.detect.p50).toBeCloseTo(expectNs + hsw.veDelivery.value / 3.4, 3);
  });

  it('stock Xentrace notification waits for the 100 ms poll; Dom0 polling detects within its period', () => {
    const tbuf = runTriggerCase({ mech: 'vmfunc-tbuf', rdtscLoop: 10, requests: N });
    const imm = runTriggerCase({ mech: 'vmfunc', rdtscLoop: 10, requests: N });
    expect(tbuf.modelled_ns.detect).toEqual(imm.modelled_ns.detect);
    expect(tbuf.woken_by).toEqual({ poll: N });
    expect(tbuf.modelled_ns.notify.p50).toBeGreaterThan(20e6);
    expect(tbuf.modelled_ns.notify.p99).toBeLessThan(100e6 + 1e5);
    expect(tbuf.modelled_ns.notify.p50).toBeGreaterThan(1000 * imm.modelled_ns.notify.p50);
    const poll = runTriggerCase({ mech: 'dom0-poll', rdtscLoop: 10, requests: N, pollMs: 1 });
    const pauseNs = getProfile('haswell').vmPause.value / 3.4;
    expect(poll.modelled_ns.detect.p50).toBeGreaterThan(0.2e6);
    expect(poll.modelled_ns.detect.p99).toBeLessThan(1e6 + pauseNs + 1);
    expect(poll.modelled_ns.trace).toBeNull();
    expect(poll.request_cost_cycles).toBe(1);
  });

  it('benchTrigger runs every row and formats a table', () => {
    const b = benchTrigger({ requests: 50, rdtscLoop: 100, rates: [10, 100], pollMs: [1] });
    expect(b.mechanisms.map((r) => r.name)).toEqual(['vmfunc', 'vmfunc-tbuf', 'vmcall', 've', 'dom0-poll P=1ms']);
    const t = formatTriggerBench(b);
    expect(t).toMatch(/profile haswell/);
    expect(t).toMatch(/RDTSC\/s/);
  });
});
