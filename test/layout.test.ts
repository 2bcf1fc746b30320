// The CPU's Wasm memory map (assembly/layout.ts): every region the CPU addresses by number is
// declared there with its size, regions do not overlap, and all lie between AssemblyScript's
// static data and MACHINE_BASE, where machine memory begins. No other CPU source names an address.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as L from '../assembly/layout.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const layout = L as unknown as Record<string, number>;

/** Regions by the layout.ts convention: a constant NAME with NAME_BYTES beside it. */
function regions(): { name: string; start: number; end: number }[] {
  return Object.keys(layout)
    .filter((k) => !k.endsWith('_BYTES') && `${k}_BYTES` in layout)
    .map((k) => ({ name: k, start: layout[k], end: layout[k] + layout[`${k}_BYTES`] }))
    .sort((a, b) => a.start - b.start);
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the CPU memory map (assembly/layout.ts)', () => {
  it('names the regions the CPU uses', () => {
    const names = regions().map((r) => r.name);
    for (const n of ['REGS', 'SEGS', 'COSTS', 'BREAKPOINTS', 'VMCS', 'VMCS_PRESENT', 'DUMMY_READ', 'DUMMY_WRITE',
      'SCRATCH', 'EPT_VIEWS', 'TLB', 'DCACHE', 'CODEMAP']) expect(names).toContain(n);
  });

  it('no two regions overlap, and all lie below MACHINE_BASE', () => {
    const rs = regions();
    for (let i = 0; i < rs.length; i++) {
      expect(rs[i].end, rs[i].name).toBeGreaterThan(rs[i].start);
      expect(rs[i].end, `${rs[i].name} ends past MACHINE_BASE`).toBeLessThanOrEqual(L.MACHINE_BASE);
      if (i > 0) expect(rs[i].start, `${rs[i].name} overlaps ${rs[i - 1].name}`).toBeGreaterThanOrEqual(rs[i - 1].end);
    }
  });

  it('all regions lie above the static data AssemblyScript places from address 0', () => {
    const wasm = new WebAssembly.Module(readFileSync(join(ROOT, 'build/cpu.wasm')));
    // Every function the CPU imports from its host (abort, the MMIO device model) as a stub: only heapBase is called.
    const env: Record<string, () => never> = {};
    for (const imp of WebAssembly.Module.imports(wasm)) if (imp.kind === 'function') env[imp.name] = () => { throw new Error(imp.name); };
    const inst = new WebAssembly.Instance(wasm, { env });
    const heapBase = (inst.exports.heapBase as () => number)();
    expect(heapBase).toBeGreaterThan(0);
    expect(heapBase).toBeLessThanOrEqual(regions()[0].start);
  });

  it('no other file in assembly/ writes a Wasm address as a number', () => {
    const offenders: string[] = [];
    for (const f of sources(join(ROOT, 'assembly'))) {
      if (f.endsWith('layout.ts')) continue;
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        // An 8-digit hex literal below MACHINE_BASE's 0x01000000 reads as an address.
        if (/\b0x00[0-9a-fA-F]{6}\b/.test(line)) offenders.push(`${relative(ROOT, f)}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(offenders).toEqual([]);
  });
});
