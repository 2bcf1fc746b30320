// Hand-written SVG charts for the benches (issue 7, item 5): a percentile
// box chart on a log scale (bench trigger's latency distributions) and a
// horizontal bar chart (bench overhead). No dependency; the output is plain
// SVG 1.1 that browsers and XML parsers read.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TriggerBench, Pcts } from './trigger.js';
import type { OverheadBench } from './overhead.js';
import { fmtNsShort } from '../util/format.js';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const n2 = (x: number) => (Math.round(x * 100) / 100).toString();
const FONT = 'font-family="sans-serif" font-size="12"';

export interface BoxRow { label: string; p: Pcts; min?: number; max?: number }

/**
 * One horizontal box per row on a log-scaled axis: the box spans p50..p90,
 * the whisker runs to p99, a tick marks the mean. Each box is a
 * `<rect class="box">`.
 */
export function boxChartSvg(title: string, rows: BoxRow[], unit = 'ns'): string {
  const W = 900, left = 230, right = 30, top = 40, rowH = 34, H = top + rows.length * rowH + 50;
  const vals = rows.flatMap((r) => [r.p.p50, r.p.p90, r.p.p99, r.p.mean]).filter((x) => x > 0 && Number.isFinite(x));
  const vmin = vals.length ? Math.min(...vals) : 1, vmax = vals.length ? Math.max(...vals) : 10;
  const lo = Math.pow(10, Math.floor(Math.log10(vmin))), hi = Math.max(lo * 10, Math.pow(10, Math.ceil(Math.log10(vmax))));
  const x = (v: number) => left + (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) * (W - left - right);
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${W / 2}" y="22" text-anchor="middle" ${FONT} font-weight="bold">${esc(title)}</text>`);
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    o.push(`<line x1="${n2(x(d))}" y1="${top - 6}" x2="${n2(x(d))}" y2="${H - 44}" stroke="#ddd"/>`);
    o.push(`<text x="${n2(x(d))}" y="${H - 30}" text-anchor="middle" ${FONT}>${esc(unit === 'ns' ? fmtNsShort(d) : String(d))}</text>`);
  }
  o.push(`<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle" ${FONT}>log scale; box p50-p90, whisker to p99, diamond = mean</text>`);
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    const x50 = x(r.p.p50), x90 = x(r.p.p90), x99 = x(r.p.p99), xm = x(r.p.mean);
    o.push(`<g><title>${esc(`${r.label}: p50 ${fmtNsShort(r.p.p50)}, p90 ${fmtNsShort(r.p.p90)}, p99 ${fmtNsShort(r.p.p99)}, mean ${fmtNsShort(r.p.mean)}`)}</title>`);
    o.push(`<text x="${left - 8}" y="${n2(cy + 4)}" text-anchor="end" ${FONT}>${esc(r.label)}</text>`);
    o.push(`<line x1="${n2(x90)}" y1="${n2(cy)}" x2="${n2(x99)}" y2="${n2(cy)}" stroke="#333"/>`);
    o.push(`<line x1="${n2(x99)}" y1="${n2(cy - 7)}" x2="${n2(x99)}" y2="${n2(cy + 7)}" stroke="#333"/>`);
    o.push(`<rect class="box" x="${n2(x50)}" y="${n2(cy - 10)}" width="${n2(Math.max(2, x90 - x50))}" height="20" fill="#6fa8dc" stroke="#1c4587"/>`);
    o.push(`<line x1="${n2(x50)}" y1="${n2(cy - 10)}" x2="${n2(x50)}" y2="${n2(cy + 10)}" stroke="#1c4587" stroke-width="3"/>`);
    o.push(`<path d="M${n2(xm)} ${n2(cy - 5)} l5 5 l-5 5 l-5 -5 z" fill="#cc0000"/>`);
    o.push('</g>');
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

export interface BarRow { label: string; value: number; note?: string }

/** Horizontal bars from zero (negative values to the left), one `<rect class="bar">` per row, with a reference line. */
export function barChartSvg(title: string, rows: BarRow[], unit: string, ref?: { value: number; label: string }): string {
  const W = 900, left = 300, right = 90, top = 40, rowH = 30, H = top + rows.length * rowH + 50;
  const vals = [...rows.map((r) => r.value), ref?.value ?? 0, 0];
  const lo = Math.min(...vals), hi = Math.max(...vals) * 1.1 || 1;
  const x = (v: number) => left + (v - lo) / (hi - lo || 1) * (W - left - right);
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  o.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="white"/>`);
  o.push(`<text x="${W / 2}" y="22" text-anchor="middle" ${FONT} font-weight="bold">${esc(title)}</text>`);
  o.push(`<line x1="${n2(x(0))}" y1="${top - 6}" x2="${n2(x(0))}" y2="${H - 44}" stroke="#333"/>`);
  if (ref) {
    o.push(`<line x1="${n2(x(ref.value))}" y1="${top - 6}" x2="${n2(x(ref.value))}" y2="${H - 44}" stroke="#cc0000" stroke-dasharray="4 3"/>`);
    o.push(`<text x="${n2(x(ref.value))}" y="${H - 30}" text-anchor="middle" ${FONT} fill="#cc0000">${esc(ref.label)}</text>`);
  }
  o.push(`<text x="${(left + W - right) / 2}" y="${H - 10}" text-anchor="middle" ${FONT}>${esc(unit)}</text>`);
  rows.forEach((r, i) => {
    const cy = top + i * rowH + rowH / 2;
    const x0 = x(Math.min(0, r.value)), x1 = x(Math.max(0, r.value));
    o.push(`<g><title>${esc(`${r.label}: ${r.value}${r.note ? ` (${r.note})` : ''}`)}</title>`);
    o.push(`<text x="${left - 8}" y="${n2(cy + 4)}" text-anchor="end" ${FONT}>${esc(r.label)}</text>`);
    o.push(`<rect class="bar" x="${n2(x0)}" y="${n2(cy - 9)}" width="${n2(Math.max(1, x1 - x0))}" height="18" fill="#6fa8dc" stroke="#1c4587"/>`);
    o.push(`<text x="${n2(x1 + 6)}" y="${n2(cy + 4)}" ${FONT}>${esc(r.value.toFixed(2))}</text>`);
    o.push('</g>');
  });
  o.push('</svg>');
  return o.join('\n') + '\n';
}

/** bench trigger: one chart per latency stage (VMI program start, Dom0 notified, detection), and the RDTSC-rate sweep. */
export function triggerSvgs(b: TriggerBench): Record<string, string> {
  const prof = `profile ${b.profile}${b.guest === 'linux' ? ', the bundled Linux' : ''}, ${b.mechanisms[0]?.requests ?? 0} requests per row`;
  const charts: Record<string, string> = {
    'trigger-vmi-start.svg': boxChartSvg(`Request to the VMI program's first instruction (modelled), ${prof}`,
      b.mechanisms.map((r) => ({ label: r.name, p: r.modelled_ns.vmi_start }))),
    'trigger-notify.svg': boxChartSvg(`Request to Dom0 notified (modelled), ${prof}`,
      b.mechanisms.map((r) => ({ label: r.name, p: r.modelled_ns.notify }))),
    'trigger-detect.svg': boxChartSvg(`Request to the hypervisor's detection (modelled), ${prof}`,
      b.mechanisms.map((r) => ({ label: r.name, p: r.modelled_ns.detect }))),
  };
  if (b.rdtsc_rate.length) {
    charts['trigger-rdtsc-rate.svg'] = boxChartSvg(`VMFUNC + RDTSC: detection against the guest's RDTSC rate (modelled), ${prof}`,
      b.rdtsc_rate.map((r) => ({ label: `${(r.rdtsc_per_s ?? 0).toLocaleString('en-US')} RDTSC/s`, p: r.modelled_ns.detect })));
  }
  return charts;
}

/** bench overhead: busy-time and worker-completion overhead bars. */
export function overheadSvgs(b: OverheadBench): Record<string, string> {
  const ref = { value: 2, label: 'paper: 2 %' };
  return {
    'overhead-busy.svg': barChartSvg(`TVM guest CPU time overhead against "off", profile ${b.profile}`,
      b.rows.map((r) => ({ label: `${r.config}: ${r.describe}`.slice(0, 48), value: r.busy_overhead_pct })), 'overhead, % of busy virtual time', ref),
    'overhead-workers.svg': barChartSvg(`TVM workers' completion time overhead against "off", profile ${b.profile}`,
      b.rows.map((r) => ({ label: `${r.config}: ${r.describe}`.slice(0, 48), value: r.workers_overhead_pct })), 'overhead, % of virtual time to the last worker\'s end', ref),
  };
}

/** Writes the charts into `dir` (created if needed); returns the paths. */
export function writeSvgs(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  return Object.entries(files).map(([name, text]) => { const p = join(dir, name); writeFileSync(p, text); return p; });
}
