// Dom0's VMI programs on the guest's virtual time (issue 11, item 1; src/dom0/vtime.ts): the
// program runs sandboxed in its thread, its progress is counted in Wasm instructions
// (src/dom0/sandbox/insn-counter.ts), and the guest runs exactly up to each libvmi call's modelled
// instant (launch + calls x call cost + instructions x their cost, src/xen/cost-profiles.ts)
// before the call is served. The run is the same every time, whatever the host's load.
import { describe, it, expect } from 'vitest';
import { Worker } from 'node:worker_threads';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers/cli.js';
import { I32, I64, wasm, i32c, call, DROP, type Imp } from './helpers/wasm.js';
import { runImageWithLaunches } from '../src/run-launch.js';
import { runImage } from '../src/run.js';
import { loadLaunchConfig, defaultProfile, bundledProgram } from '../src/dom0/launch.js';
import { Vmi, eptDomainAccess } from '../src/dom0/libvmi/index.js';
import { Dom0Vtime } from '../src/dom0/vtime.js';
import { injectInsnCounter, INSN_COUNTER_EXPORT } from '../src/dom0/sandbox/insn-counter.js';
import { PLACEHOLDER } from '../src/xen/cost-profiles.js';
import type { Domain } from '../src/xen/domain.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-vtime-'));
const config = (file: string, extra: Record<string, unknown> = {}) => {
  const f = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify({ programs: { 1: file }, ...extra }));
  return loadLaunchConfig(f);
};
const save = (name: string, bytes: Uint8Array) => { const f = join(dir, name); writeFileSync(f, bytes); return f; };

const readKsym: Imp = { mod: 'libvmi', name: 'read_64_ksym', params: [I32, I32, I32], results: [I32] };
const procExit: Imp = { mod: 'wasi_snapshot_preview1', name: 'proc_exit', params: [I32], results: [] };
/** read_64_ksym("jiffies" at 16, out at `out`): four instructions, the call included. */
const readJiffies = (out: number) => [...i32c(16), ...i32c(7), ...i32c(out), ...call(0)];
/**
 * Reads jiffies (call 1), counts a local down from `n` (8 instructions an iteration), reads
 * jiffies again (call 2) and exits with (second << 16) | (first & 0xffff). Its instruction
 * count is 4 at call 1 and 16 + 8n at call 2 (see insn-counter.ts for the runs it counts).
 */
const jiffiesTwice = (n: number, o: { imports?: Imp[]; first?: number[] } = {}) => wasm({
  imports: [readKsym, procExit, ...(o.imports ?? [])], locals: [I32], data: [[16, 'jiffies']],
  start: [
    ...(o.first ?? []),
    ...readJiffies(0),
    DROP, ...i32c(n), 0x21, 0, 0x02, 0x40,              // drop; local0 = n; block
    0x03, 0x40,                                          //   loop
    0x20, 0, 0x45, 0x0d, 1,                              //     br_if 1 (local0 == 0)
    0x20, 0, ...i32c(1), 0x6b, 0x21, 0, 0x0c, 0,         //     local0 -= 1; br 0
    0x0b, 0x0b,                                          //   end end
    ...readJiffies(8),
    DROP, ...i32c(0), 0x28, 2, 8, ...i32c(16), 0x74,     // i32.load [8] << 16
    ...i32c(0), 0x28, 2, 0, ...i32c(0xffff), 0x71, 0x72, // | i32.load [0] & 0xffff
    ...call(1),
  ],
});

/** jiffies in the guest's memory once a plain run (no program) has reached virtual time `at`. */
function jiffiesAt(at: bigint): bigint {
  let d: Domain | undefined;
  runImage({ vmi: {}, maxVtime: at, beforeRun: (dd) => { d = dd; } });
  const dd = d!;
  const vmi = new Vmi(eptDomainAccess(dd.machine, {
    id: dd.id, name: dd.name, memsize: dd.memBytes, eptp: () => dd.p2m.eptp(), pause: () => {}, resume: () => {},
  }), { profile: defaultProfile() });
  const [st, v] = vmi.vmi_read_64_ksym('jiffies');
  expect(st).toBe(0);
  return v;
}

describe('Dom0 on virtual time: a co-simulation (issue 11; Xen timer.c shape, Dom0\'s own CPU)', () => {
  it('the injected counter counts every executed Wasm instruction', () => {
    // A loop of n iterations: block, loop, 8 per iteration, the last test (3) and the function's end.
    const loop = (n: number) => wasm({
      locals: [I32], start: [...i32c(n), 0x21, 0, 0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x45, 0x0d, 1,
        0x20, 0, ...i32c(1), 0x6b, 0x21, 0, 0x0c, 0, 0x0b, 0x0b], mem: { min: 1 },
    });
    for (const n of [0, 1, 10, 1000]) {
      const inst = new WebAssembly.Instance(new WebAssembly.Module(injectInsnCounter(loop(n)) as Uint8Array<ArrayBuffer>));
      (inst.exports._start as () => void)();
      expect((inst.exports[INSN_COUNTER_EXPORT] as WebAssembly.Global).value).toBe(BigInt(2 + 2 + 8 * n + 3 + 1));
    }
  });

  it('every bundled program still validates with the counter; an opcode it cannot read is refused by name', () => {
    for (const name of ['process-list', 'syscall-check', 'map-addr', 'dump-memory', 'vmi-request']) {
      const bytes = new Uint8Array(readFileSync(bundledProgram(name)));
      const mod = new WebAssembly.Module(injectInsnCounter(bytes) as Uint8Array<ArrayBuffer>);
      expect(WebAssembly.Module.exports(mod).map((e) => e.name)).toContain(INSN_COUNTER_EXPORT);
    }
    expect(() => injectInsnCounter(wasm({ start: [0xf0] }))).toThrow('cannot count the instructions of function 0: unsupported opcode 0xf0 at offset');
  });

  it('a call\'s instant is launch + calls x call cost + instructions x their cost, and it sees the guest\'s memory as it is then', async () => {
    const n = 1_000_000;
    const s = await runImageWithLaunches({ vmi: {}, launchConfig: config(save('jiffies.wasm', jiffiesTwice(n))) });
    expect(s.exit.status).toBe(0);
    const p = s.vmi_programs[0];
    expect(p.error).toBeUndefined();
    const c = PLACEHOLDER;   // run's default profile
    const t0 = BigInt(p.start_vcycles!);
    expect(t0).toBe(BigInt(s.vmi_requests[0].dom0_vcycles));
    const t1 = t0 + BigInt(c.vmiLaunch.value + 4 * c.vmiWasmInsn.value);
    const t2 = t0 + BigInt(c.vmiLaunch.value + c.libvmiCall.value + (16 + 8 * n) * c.vmiWasmInsn.value);
    const j1 = jiffiesAt(t1), j2 = jiffiesAt(t2);
    expect(j2 - j1).toBeGreaterThanOrEqual(3n);          // ~4 ms of guest time between the reads
    expect(p.exit_code).toBe(Number((j2 << 16n) | (j1 & 0xffffn)));
    expect(p.libvmi_calls).toBe(2);
    expect(BigInt(p.end_vcycles!)).toBe(t0 + BigInt(c.vmiLaunch.value + 2 * c.libvmiCall.value + p.wasm_insns! * c.vmiWasmInsn.value));
    expect(p.guest_insns_during).toBeGreaterThan(1_000_000);
  });

  it('pause mode still pauses: the guest does not move between the program\'s calls (inline is its old name)', async () => {
    const cfg = config(save('jiffies-pause.wasm', jiffiesTwice(1_000_000)));
    for (const launchMode of ['pause', 'inline'] as const) {
      const s = await runImageWithLaunches({ vmi: {}, launchMode, launchConfig: cfg });
      const code = s.vmi_programs[0].exit_code!;
      expect(code >>> 16).toBe(code & 0xffff);
      expect(s.vmi_programs[0].start_vcycles).toBeUndefined();
    }
  });

  it('vmi_pause_vm holds the guest while virtual time goes on; the pause is undone at the end', async () => {
    const pauseVm: Imp = { mod: 'libvmi', name: 'pause_vm', params: [], results: [I32] };
    const s = await runImageWithLaunches({ vmi: {}, launchConfig: config(save('jiffies-paused.wasm',
      jiffiesTwice(1_000_000, { imports: [pauseVm], first: [...call(2), DROP] }))) });
    const p = s.vmi_programs[0];
    expect(p.exit_code! >>> 16).toBe(p.exit_code! & 0xffff);
    expect(p.end_vcycles! - p.start_vcycles!).toBeGreaterThan(8_000_000);
    expect(s.exit.status).toBe(0);
  });

  it('the time limit stops a program that loops making calls at its limit in virtual time, and one that loops without calls', async () => {
    const getVmid: Imp = { mod: 'libvmi', name: 'get_vmid', params: [], results: [I64] };
    const s = await runImageWithLaunches({ vmi: {}, launchConfig: config(save('calls-forever.wasm',
      wasm({ imports: [getVmid], start: [0x03, 0x40, ...call(0), DROP, 0x0c, 0x00, 0x0b] })), { time_limit_ms: 2 }) });
    const p = s.vmi_programs[0];
    expect(p.error).toBe('time limit: stopped after 2 ms (the program was still running)');
    expect(p.end_vcycles! - p.start_vcycles!).toBe(2 * PLACEHOLDER.freqKhz.value);
    // Call k comes after 3k - 1 instructions (loop; call; drop, br ...): the first past the limit is the last counted.
    let k = 1;
    while (PLACEHOLDER.vmiLaunch.value + (k - 1) * PLACEHOLDER.libvmiCall.value + (3 * k - 1) <= 2 * PLACEHOLDER.freqKhz.value) k++;
    expect(p.libvmi_calls).toBe(k);
    const q = (await runImageWithLaunches({ vmi: {}, launchConfig: config(save('spin.wasm',
      wasm({ start: [0x03, 0x40, 0x0c, 0x00, 0x0b] })), { time_limit_ms: 300 }) })).vmi_programs[0];
    expect(q.error).toMatch(/^time limit/);
    expect(s.exit.status).toBe(0);
  });

  it('programs are served in order of their instants; ties go to the earlier launch', async () => {
    const vt = new Dom0Vtime({ launch: 100, call: 10, insn: 1 }, 1000);
    const order: string[] = [];
    const a = vt.begin(0n, 1000, (at) => order.push(`a end ${at}`));
    const b = vt.begin(50n, 1000, (at) => order.push(`b end ${at}`));
    void a.call(1, 5).then(() => order.push('a call 1'));   // 0 + 100 + 5 = 105
    const pending = vt.next();
    void b.call(1, 0).then(() => order.push('b call 1'));   // 50 + 100 = 150
    const first = await pending;
    expect(first).toBe(a);
    expect(first!.pending!.at).toBe(105n);
    vt.serve(first!);
    a.end(1, 40, false);                                    // 0 + 100 + 10 + 40 = 150: ties with b
    const second = (await vt.next())!;
    expect(second).toBe(a);
    vt.serve(second);
    vt.serve((await vt.next())!);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['a call 1', 'a end 150', 'b call 1']);
    expect(vt.busy).toBe(true);
    b.end(1, 0, false);
    vt.serve((await vt.next())!);
    expect(vt.busy).toBe(false);
  });

  it('the default run is byte-identical 5 times over, with the host busy meanwhile, and lists the requester', async () => {
    const busy = new Worker('for (;;) {}', { eval: true });
    const strip = (r: { code: number; stdout: string; stderr: string }) => {
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      const clean = JSON.stringify(j, (k, v) => (/host|mips|_ms$/.test(k) ? undefined : v), 1);
      return `${r.code}\n${clean}\n${r.stderr.replace(/\([\d.]+ ms host time\)/g, '(host)')}`;
    };
    try {
      const runs: string[] = [];
      for (let i = 0; i < 5; i++) runs.push(strip(await runCli(['run', '--json'])));
      for (const r of runs.slice(1)) expect(r).toBe(runs[0]);
      expect(runs[0]).toContain('(dom0) process-list: [    4] vmireq');
      expect(runs[0]).toContain('"start_vcycles"');
    } finally {
      await busy.terminate();
    }
  }, 120_000);
});
