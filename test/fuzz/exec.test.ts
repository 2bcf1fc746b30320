// Fuzz: random and mutated instruction streams through `vmfunc-vmi exec`'s environment (src/exec.ts),
// and damaged case lines. Whatever the bytes, a case ends (end, exception, limit) within its
// instruction budget with a JSON result, or is refused with a one-line input error; the CPU never
// throws to the host (the "CPU never unwinds" contract, assembly/fault.ts). Streams come from the
// differential generator (test/diff/gen.ts), mutated, and from raw random bytes.
import { describe, it, expect } from 'vitest';
import { ExecEnv } from '../../src/exec.js';
import { generateCase } from '../diff/gen.js';
import { fuzz, fuzzTimeout, mutate, type Rnd } from './fuzz.js';

const STOPS = new Set(['end', 'exception', 'limit', 'exit']);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A line: a generated case mutated, random bytes, or a damaged JSON object. */
function line(r: Rnd, i: number): string {
  const k = r.int(10);
  if (k < 5) {
    const g = generateCase(1000 + r.int(1 << 20), i).exec;
    const code = mutate(r, Uint8Array.from(Buffer.from(g.code, 'hex')));
    return JSON.stringify({ ...g, code: hex(code), max_insns: 2000 });
  }
  if (k < 8) return JSON.stringify({ code: hex(r.bytes(1 + r.int(48))), regs: { rsi: '0x20000100', rdi: '0x20000800', rsp: '0x2000f000' }, max_insns: 2000 });
  // Damaged input: wrong types, unknown fields, odd hex, huge numbers, truncated JSON.
  const bad = [
    { code: 'zz' }, { code: '909' }, { code: 90 }, { code: '90', regs: { rax: 'x' } }, { code: '90', regs: { r99: 1 } },
    { code: '90', rflags: -1 }, { code: '90', max_insns: 1.5 }, { code: '90', max_insns: -1 }, { code: '90', xmm: { xmm16: 1 } },
    { code: '90', mxcsr: '0x1ffffffff' }, { code: '90', fcw: [] }, { code: '90', extra: 1 }, [], null, 'x',
    { code: '90', regs: { rax: '0x' + 'f'.repeat(17) } },
  ];
  const j = JSON.stringify(r.pick(bad));
  return r.chance(0.3) ? j.slice(0, r.int(j.length + 1)) : j;
}

describe('fuzz: instruction streams through exec', () => {
  it('every case ends within its budget with a result, or is refused with an input error', async () => {
    const env = await ExecEnv.create();
    const run = await fuzz('exec', 2000, (r, i) => {
      const text = line(r, i);
      const out = env.runLine(text, 1);        // throws only for a host-side failure: a finding
      const json = JSON.parse(JSON.stringify(out));
      if ('error' in json) {
        if (typeof json.error !== 'string' || !/^line 1: /.test(json.error) || json.error.includes('\n')) throw new Error(`bad error for ${text}: ${json.error}`);
        return;
      }
      if (!STOPS.has(json.stop)) throw new Error(`stop "${json.stop}" for ${text}`);
      if (!(json.insns <= 2000)) throw new Error(`${json.insns} instructions past the budget for ${text}`);
      if (!/^0x[0-9a-f]{1,16}$/.test(json.regs.rax)) throw new Error(`regs not 64-bit hex for ${text}`);
    });
    expect(run.failures).toEqual([]);
  }, fuzzTimeout(60_000));
});
