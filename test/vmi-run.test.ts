// The paper's mechanism end to end on the bundled TVM: vmireq's VMFUNC to a
// mirror view, the RDTSC handler's detection, the trace record, Dom0's read,
// and the trace file read by Xen's own xenalyze.
import { describe, it, expect } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runImage } from '../src/run.js';
import { findXenalyze, xenalyze } from './helpers/xenalyze.js';
import { EXIT_REASONS } from '../src/vmcs.js';

const cache = join(import.meta.dirname, '.cache');
mkdirSync(cache, { recursive: true });

describe('VMI trigger on the TVM', () => {
  it('vmireq\'s VMFUNC(0, 11) is detected once, switched back to view 1, and read by Dom0 after the immediate VIRQ', () => {
    const logs: string[] = [];
    let console = '';
    const s = runImage({ onConsole: (b) => { console += Buffer.from(b).toString(); }, onLog: (l) => logs.push(l),
      vmi: { notify: 'immediate', onDom0Log: (l) => logs.push(`dom0: ${l}`) } });
    expect(s.exit.status).toBe(0);
    expect(console).toContain('vmireq[4]: VMFUNC(0, 11) done, still running');
    expect(s.vmi_requests).toHaveLength(1);
    const r = s.vmi_requests[0];
    expect(r).toMatchObject({ domid: 1, vcpu: 0, eptp_index: 11, parameter: 1, woken_by: 'VIRQ_VMI' });
    expect(r.notify_latency_ns).toBeGreaterThan(0);
    expect(r.notify_latency_ns).toBeLessThan(100_000);
    expect(logs.some((l) => /VMI request: EPTP index 11/.test(l))).toBe(true);
    // Only the requesting program's RDTSCs exit: the trigger is on only while it runs.
    expect(s.exits.by_reason.RDTSC).toBeGreaterThan(0);
  });

  it('stock notification finds the request at the xentrace daemon\'s 100 ms poll (or VIRQ_TBUF at half full)', () => {
    const s = runImage({ vmi: { notify: 'tbuf' }, maxVtime: 400_000_000n });
    expect(s.vmi_requests).toHaveLength(1);
    expect(['poll', 'VIRQ_TBUF']).toContain(s.vmi_requests[0].woken_by);
    expect(s.vmi_requests[0].notify_latency_ns).toBeLessThanOrEqual(100_000_000 + 100_000);
  });

  it('the same run twice is identical instruction for instruction, requests included', () => {
    const a = runImage({ vmi: {} }), b = runImage({ vmi: {} });
    expect(b.insns).toBe(a.insns);
    expect(b.vcycles).toBe(a.vcycles);
    expect(b.vmi_requests).toEqual(a.vmi_requests);
  });

  const xa = findXenalyze();
  it.skipIf(!xa.path)(`xenalyze reads the demo's trace: exit counts match the run, --dump-all shows the VMI request${xa.why ? ` (skipped: ${xa.why})` : ''}`, () => {
    const file = join(cache, 'demo.trace');
    const s = runImage({ vmi: { traceFile: file, traceHvm: true } });
    expect(s.trace!.dropped).toBe(0);
    const sum = xenalyze(xa.path!, ['--summary'], file);
    expect(sum.status, sum.stderr).toBe(0);
    // xenalyze names VMX exits with its own table; compare the ones both spell alike. It counts an
    // exit once the following VM entry closes it, so the run's final exit (the guest's write to
    // the exit port, an I/O exit) is not counted.
    for (const name of ['CPUID', 'HLT', 'RDTSC', 'VMCALL', 'IO_INSTRUCTION']) {
      const n = s.exits.by_reason[name] - (name === 'IO_INSTRUCTION' ? 1 : 0);
      expect(n, name).toBeGreaterThan(0);
      expect(sum.stdout, name).toMatch(new RegExp(`\\n ${name}\\s+${n}\\s`));
    }
    const dump = xenalyze(xa.path!, ['--dump-all'], file);
    expect(dump.status).toBe(0);
    const lines = dump.stdout.split('\n').filter((l) => l.includes('1f010(1:f:10)'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/1f010\(1:f:10\) 6 \[ 1 1000b /); // domid 1 vcpu 0; index 11 | parameter 1 << 16
    expect(EXIT_REASONS[16]).toBe('RDTSC');
  });
});
