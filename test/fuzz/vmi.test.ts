// Fuzz: hostile VMI programs in every sandbox mode (worker, inline, vtime: src/dom0/sandbox/): random
// sequences of libvmi calls (any import of the ABI, src/dom0/sandbox/abi.ts, with random addresses,
// pointers in and out of linear memory, huge lengths), ending normally, in a loop or in a trap; and
// mutated modules. Every run resolves with a result (an exit code, or an error of a known kind) within
// the time limit plus the sandbox's overhead; nothing a program does rejects the promise or reaches Dom0.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Sandbox, LIBVMI_ABI, type AbiKind } from '../../src/dom0/sandbox/index.js';
import type { Vmi } from '../../src/dom0/libvmi/index.js';
import { Vmi as VmiImpl } from '../../src/dom0/libvmi/index.js';
import { loadProfile } from '../../src/dom0/profile.js';
import { buildSyntheticGuest } from '../helpers/vmi-guest.js';
import { I32, I64, wasm, i32c, call, DROP, LOOP_FOREVER, type Imp } from '../helpers/wasm.js';
import { HOSTILE } from '../helpers/hostile-programs.js';
import { fuzz, fuzzTimeout, mutate, type Rnd } from './fuzz.js';

const KINDS = new Set(['trap', 'timeout', 'call-limit', 'load', 'sandbox', 'error']);
const LIMIT_MS = 500;

const sleb64 = (v: bigint): number[] => {
  const o: number[] = [];
  for (;;) { const b = Number(v & 0x7fn); v >>= 7n; if ((v === 0n && !(b & 0x40)) || (v === -1n && (b & 0x40))) { o.push(b); return o; } o.push(b | 0x80); }
};
const wasmParams = (k: AbiKind): number[] => k === 'i64' ? [I64] : k === 'str' || k === 'in' || k === 'buf' ? [I32, I32] : [I32];

/** A program of random libvmi calls, then an end: return, a loop, a trap, or proc_exit. */
function callProgram(r: Rnd): Uint8Array {
  const entries = Array.from({ length: 1 + r.int(4) }, () => r.pick(LIBVMI_ABI));
  const imports: Imp[] = entries.map((e) => ({ mod: 'libvmi', name: e.name, params: e.params.flatMap(wasmParams), results: [e.result === 'i64' ? I64 : I32] }));
  const body: number[] = [];
  const addr = () => r.pick([0n, 0xffffffff80000000n + BigInt(r.int(2 ** 24)), 0xffff888000000000n + BigInt(r.int(2 ** 26)), BigInt(r.int(2 ** 32)), -1n, 1n << 63n]);
  const ptr = () => r.pick([16, 1024, r.int(65536), 65536 - r.int(16), 65536 + r.int(100), -1]);
  const len = () => r.pick([0, 1, 8, 64, r.int(4096), 1 << 20, 0x7fffffff, -1]);
  for (let n = 1 + r.int(12); n > 0; n--) {
    const k = r.int(entries.length);
    for (const p of entries[k].params) {
      if (p === "i64") body.push(0x42, ...sleb64(BigInt.asIntN(64, addr())));
      else if (p === 'str' || p === 'in' || p === 'buf') body.push(...i32c(ptr()), ...i32c(len()));
      else if (p === 'i32') body.push(...i32c(r.pick([0, 1, 7, -1, r.int(100)])));
      else body.push(...i32c(ptr()));
    }
    body.push(...call(k), DROP);
  }
  const end = r.int(4);
  if (end === 1) body.push(...LOOP_FOREVER);
  else if (end === 2) body.push(0x00);
  return wasm({ imports, start: body, data: [[16, 'init_task'], [1024, 'linux_banner']] });
}

describe('fuzz: hostile VMI programs in every sandbox mode', () => {
  let vmi: Vmi, sandbox: Sandbox;
  beforeAll(() => {
    const g = buildSyntheticGuest();
    vmi = new VmiImpl(g.domain, { profile: loadProfile(g.profilePath) });
    sandbox = new Sandbox({ prewarm: true });
  });
  afterAll(async () => { await sandbox.close(); });

  it('every run resolves with an exit code or a known error, within its limit', async () => {
    const seen: Record<string, number> = {};
    const run = await fuzz('vmi', 30, async (r) => {
      const mode = r.pick(['worker', 'inline', 'vtime'] as const);
      const bytes = r.chance(0.3) ? mutate(r, r.pick(HOSTILE).program(), 1 + r.int(4)) : callProgram(r);
      const t = Date.now();
      const res = await sandbox.run(bytes, vmi, { args: ['fuzz'], mode, timeLimitMs: LIMIT_MS, memoryLimitMiB: 2, maxCalls: 5000,
        ...(mode === 'vtime' ? { clock: { call: async () => true } } : {}) });
      const ms = Date.now() - t;
      const key = res.errorKind ?? `exit ${res.exitCode}`;
      if (process.env.FUZZ_DEBUG && res.errorKind === "load") console.log(res.error);
      seen[key] = (seen[key] ?? 0) + 1;
      if (res.errorKind !== undefined && !KINDS.has(res.errorKind)) throw new Error(`unknown error kind ${res.errorKind}`);
      if (res.errorKind === undefined && typeof res.exitCode !== 'number') throw new Error(`no exit code and no error: ${JSON.stringify(res)}`);
      if (res.errorKind === 'error' && /^Dom0 failed serving/.test(res.error ?? '')) throw new Error(`Dom0 threw: ${res.error}`);
      if (res.errorKind === 'sandbox') throw new Error(`the sandbox failed: ${res.error}`);
      if (ms > 15_000) throw new Error(`${ms} ms in ${mode} mode`);
    });
    console.log(`fuzz vmi: outcomes ${JSON.stringify(seen)}`);
    expect(run.failures).toEqual([]);
  }, fuzzTimeout(180_000));
});
