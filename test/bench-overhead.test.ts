// `bench overhead` (the TVM's slowdown: off, armed, VMFUNC trigger, pausing)
// and the benches' SVG charts (well-formed, one box or bar per row).
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchOverhead, formatOverheadBench, type OverheadBench, type OverheadConfig } from '../src/bench/overhead.js';
import { benchTrigger } from '../src/bench/trigger.js';
import { triggerSvgs, overheadSvgs, writeSvgs, boxChartSvg, barChartSvg } from '../src/bench/svg.js';

let b: OverheadBench;
const others: OverheadBench[] = [];
const row = (c: OverheadConfig, x: OverheadBench = b) => x.rows.find((r) => r.config === c)!;

beforeAll(async () => {
  b = await benchOverhead({ profile: 'haswell', pollMs: 1 });
  for (const p of ['icelake-sp', 'placeholder']) others.push(await benchOverhead({ profile: p, pollMs: 1 }));
});

describe('bench overhead', () => {
  it('runs the four configurations on the same workload', () => {
    expect(b.rows.map((r) => r.config)).toEqual(['off', 'armed', 'vmfunc', 'pause']);
    // The TVM's length is set by its timer sleeps: about the same total virtual time everywhere.
    for (const r of b.rows) expect(Math.abs(r.vcycles / row('off').vcycles - 1)).toBeLessThan(0.001);
    for (const r of b.rows) expect(r.workers_done_cycles).toBeGreaterThan(0);
    expect(row('off').busy_overhead_pct).toBe(0);
  });

  it('off never exits on RDTSC; armed exits on every RDTSC and costs more', () => {
    expect(row('off').rdtsc_exits).toBe(0);
    expect(row('pause').rdtsc_exits).toBe(0);
    expect(row('armed').rdtsc_exits).toBeGreaterThan(row('vmfunc').rdtsc_exits);
    expect(row('armed').busy_cycles).toBeGreaterThanOrEqual(row('off').busy_cycles);
    expect(row('armed').workers_done_cycles).toBeGreaterThanOrEqual(row('off').workers_done_cycles);
    expect(row('armed').busy_overhead_pct).toBeGreaterThan(0);
    // The cost of one RDTSC exit is the profile's exit round trip + handler - the native RDTSC (2000 + 333 - 19).
    expect(b.rdtsc_exit_cycles).toBe(2314);
    // The runs agree with the model within a few percent (busy time also moves with where ticks land).
    expect(Math.abs(b.rdtsc_exit_cycles_measured - 2314) / 2314).toBeLessThan(0.05);
  });

  it('introspection by pausing costs the guest at least as much as by the VMFUNC trigger, for the same VMI work', () => {
    expect(row('vmfunc').vmi_programs).toBe(1);
    expect(row('pause').vmi_programs).toBe(row('vmfunc').vmi_programs);
    expect(row('pause').pause_cycles).toBeGreaterThan(0);
    // On the guest's CPU time (busy), for every profile. (The workers' completion time moves with the
    // scheduler's tick quantisation as well, so its sub-1 % differences are not ordered.)
    for (const x of [b, ...others]) {
      expect(row('pause', x).busy_cycles, x.profile).toBeGreaterThanOrEqual(row('vmfunc', x).busy_cycles);
      expect(row('vmfunc', x).busy_cycles, x.profile).toBeGreaterThanOrEqual(row('off', x).busy_cycles);
      expect(row('armed', x).busy_cycles, x.profile).toBeGreaterThanOrEqual(row('off', x).busy_cycles);
    }
  });

  it('compares with the paper\'s 2 % in the table and the JSON', () => {
    const t = formatOverheadBench(b);
    expect(t).toMatch(/Paper: <= 2 %/);
    expect(t.split('\n').filter((l) => /^\| (off|armed|vmfunc|pause):/.test(l))).toHaveLength(4);
    const j = JSON.parse(JSON.stringify(b)) as OverheadBench;
    expect(j.rows).toHaveLength(4);
    expect(j.rdtsc_per_s_at_2pct).toBeGreaterThan(10_000);
    expect(j.rdtsc_rate_model.every((r, i, a) => i === 0 || r.overhead_pct >= a[i - 1].overhead_pct)).toBe(true);
  });
});

/** A small XML well-formedness check: tags balance, attributes are quoted, one root <svg>. */
function checkXml(text: string): { tags: { name: string; attrs: Record<string, string> }[] } {
  const stack: string[] = [];
  const tags: { name: string; attrs: Record<string, string> }[] = [];
  const re = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let pos = 0, roots = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const between = text.slice(pos, m.index);
    expect(between, `stray markup before ${m[0]}`).not.toMatch(/[<>]/);
    expect(between, 'unescaped &').not.toMatch(/&(?!amp;|lt;|gt;|quot;|#\d+;)/);
    pos = m.index + m[0].length;
    const [, close, name, attrText, selfClose] = m;
    if (close) { expect(stack.pop(), `</${name}> closes the wrong element`).toBe(name); continue; }
    if (stack.length === 0) roots++;
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[a[1]] = a[2];
    tags.push({ name, attrs });
    if (!selfClose) stack.push(name);
  }
  expect(text.slice(pos).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
  expect(tags[0].name).toBe('svg');
  expect(tags[0].attrs.xmlns).toBe('http://www.w3.org/2000/svg');
  return { tags };
}
const count = (svg: string, cls: string) => checkXml(svg).tags.filter((t) => t.name === 'rect' && t.attrs.class === cls).length;

describe('SVG charts', () => {
  it('bench overhead: one bar per configuration, written into the directory asked for', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmfunc-vmi-svg-'));
    const paths = writeSvgs(join(dir, 'sub'), overheadSvgs(b));
    expect(readdirSync(join(dir, 'sub')).sort()).toEqual(['overhead-busy.svg', 'overhead-workers.svg']);
    for (const p of paths) expect(count(readFileSync(p, 'utf8'), 'bar')).toBe(b.rows.length);
  });

  it('bench trigger: one box per mechanism and per RDTSC rate, on a log scale', () => {
    const t = benchTrigger({ requests: 40, rates: [100, 1000], pollMs: [1] });
    const files = triggerSvgs(t);
    for (const name of ['trigger-vmi-start.svg', 'trigger-notify.svg', 'trigger-detect.svg']) {
      expect(count(files[name], 'box'), name).toBe(t.mechanisms.length);
    }
    expect(count(files['trigger-rdtsc-rate.svg'], 'box')).toBe(2);
    expect(files['trigger-notify.svg']).toMatch(/log scale/);
  });

  it('escapes labels and copes with negative and zero values', () => {
    const box = boxChartSvg('a <b> & "c"', [{ label: 'x<y', p: { p50: 5, p90: 50, p99: 500, mean: 40 } }]);
    expect(count(box, 'box')).toBe(1);
    const bar = barChartSvg('t', [{ label: 'neg & zero', value: -0.5 }, { label: 'z', value: 0 }, { label: 'p', value: 3 }], '%', { value: 2, label: '2 %' });
    expect(count(bar, 'bar')).toBe(3);
    expect(bar).not.toMatch(/NaN|Infinity/);
  });
});

describe('bench overhead on the bundled Linux (issue 14: the paper\'s "at most 2 %" on a real kernel\'s RDTSC rate)', () => {
  it('off, armed, the VMFUNC trigger and pausing over Linux\'s boot, vmireq and power-off', async () => {
    const b = await benchOverhead({ image: 'linux' });
    expect(b.guest).toBe('linux');
    const row = (c: OverheadConfig) => b.rows.find((r) => r.config === c)!;
    expect(row('off').rdtsc_exits).toBe(0);
    expect(row('armed').rdtsc_exits).toBeGreaterThan(1000);          // Linux reads the TSC (calibration, sched_clock)
    expect(row('armed').busy_overhead_pct).toBeGreaterThan(row('vmfunc').busy_overhead_pct);
    expect(row('vmfunc').vmi_programs).toBe(1);
    expect(row('vmfunc').busy_overhead_pct).toBeLessThan(2);          // the trigger armed only while vmireq asks
    const t = formatOverheadBench(b);
    expect(t).toMatch(/bench overhead: the bundled Linux \(boot, vmireq, power-off\)/);
    expect(t).not.toMatch(/NaN/);
  });
});
