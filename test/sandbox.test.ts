// Dom0's VMI program sandbox: the bundled AssemblyScript programs (build/vmi/*.wasm)
// against the synthetic guest, exact output; and containment: loops, call
// floods, traps, bad pointers, memory and output limits, bad arguments,
// unloadable modules, pauses left behind. Small hand-assembled modules play
// the misbehaving programs.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { statSync, readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Vmi } from '../src/dom0/libvmi/index.js';
import { profileFromObject, SymbolMap } from '../src/dom0/profile.js';
import { Sandbox, runInSandbox, limitModuleMemory, type SandboxResult } from '../src/dom0/sandbox/index.js';
import { bundledProgram } from '../src/dom0/launch.js';
import { startProgramBench } from './helpers/vmi-programs.js';
import { I32, I64, wasm, i32c, i64c0, call, DROP, LOOP_FOREVER, type Imp } from './helpers/wasm.js';
import { type SyntheticGuest, SYM, KERNEL_MAP, VMALLOC, EPT_HOLE, GUEST_MEM, USER_VA } from './helpers/vmi-guest.js';

// ---- the misbehaving programs (assembled with test/helpers/wasm.ts) --------------------

const fdWrite: Imp = { mod: 'wasi_snapshot_preview1', name: 'fd_write', params: [I32, I32, I32, I32], results: [I32] };
const procExit: Imp = { mod: 'wasi_snapshot_preview1', name: 'proc_exit', params: [I32], results: [] };
const iovec = (ptr: number, len: number) => { const b = new Uint8Array(8); const d = new DataView(b.buffer); d.setUint32(0, ptr, true); d.setUint32(4, len, true); return b; };
/** fd_write(fd, iovec at 16 -> [64, len)) */
const printAt64 = (fd: number) => [...i32c(fd), ...i32c(16), ...i32c(1), ...i32c(8), ...call(0), DROP];

// ---- the guest and the bundled programs --------------------------------------------

let g: SyntheticGuest;
let vmi: Vmi;
let sandbox: Sandbox;
const run = (prog: string | Uint8Array, args: string[], o: Parameters<Sandbox['run']>[2] = {}) =>
  sandbox.run(typeof prog === 'string' ? bundledProgram(prog) : prog, vmi, { args, ...o });

beforeAll(() => { ({ g, vmi, sandbox } = startProgramBench()); });
afterAll(async () => { await sandbox.close(); });

const fnv1a64 = (b: Uint8Array) => { let h = 0xcbf29ce484222325n; for (const x of b) { h ^= BigInt(x); h = (h * 0x100000001b3n) & 0xffffffffffffffffn; } return h; };

describe('bundled VMI programs against the synthetic guest', () => {
  it('process-list prints exactly what LibVMI prints, and the guest task list', async () => {
    const r = await run('process-list', ['process-list', '7', '11']);
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      'Process listing for VM tvm (id=7)\n' +
      '[    0] swapper (struct addr:ffffffff80400000)\n' +
      '[    1] init (struct addr:ffff888000601000)\n' +
      '[    2] kthreadd (struct addr:ffff888000602000)\n' +
      '[    7] vmi-trigger (struct addr:ffff888000603000)\n' +
      '[   12] sh (struct addr:ffff888000604000)\n');
    expect(r.stdout).toBe(g.processList());
    expect(r.calls).toBeGreaterThan(10);
    expect(r.launchNs).toBeGreaterThan(0);
    expect(r.launchNs!).toBeLessThan(r.hostNs);
  });

  it('runs the same inline (deterministic mode) and as module bytes', async () => {
    const inline = await run('process-list', ['process-list', '7'], { mode: 'inline' });
    expect(inline.stdout).toBe(g.processList());
    expect(inline.exitCode).toBe(0);
    const bytes = await runInSandbox(readFileSync(bundledProgram('process-list')), vmi, { args: ['process-list', '7'] });
    expect(bytes.stdout).toBe(g.processList());
  });

  it('map-addr prints vmi_print_hex of a kernel address; unmapped -> "failed to map memory."', async () => {
    const r = await run('map-addr', ['map-addr', '7', '11', SYM.linux_banner.toString(16), '0', '40']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      '00000000|  4c 69 6e 75 78 20 76 65  72 73 69 6f 6e 20 36 2e   Linux version 6.\n' +
      '00000010|  31 2e 30 2d 74 76 6d 20  28 76 6d 66 75 6e 63 2d   1.0-tvm (vmfunc-\n' +
      '00000020|  76 6d 69 20 73 79 6e 74                            vmi synt\n');
    const page = await run('map-addr', ['map-addr', '7', '11', '0x' + SYM.init_task.toString(16)]);
    expect(page.stdout.split('\n').length).toBe(4096 / 16 + 1);
    expect(page.stdout.split('\n')[5]).toBe('00000050|  00 00 00 00 00 00 00 00  00 00 40 80 ff ff ff ff   ..........@.....');
    const user = await run('map-addr', ['map-addr', '7', '11', USER_VA.toString(16), '12', '16']);
    expect(user.stdout).toBe('00000000|  75 73 65 72 20 64 61 74  61 20 6f 66 20 73 68 00   user data of sh.\n');
    const bad = await run('map-addr', ['map-addr', '7', '11', (VMALLOC + 0x2000n).toString(16)]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toBe('failed to map memory.\n');
  });

  it('dump-memory writes guest-physical memory (zeros where unreadable) to the directory Dom0 names, and its hash', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'vmi-dump-'));
    const start = EPT_HOLE - 0x100000, length = 0x200000;      // 1 MiB of RAM, then the 1 MiB hole
    const r = await run('dump-memory', ['dump-memory', '7', '11', '/out/tvm.raw', `0x${start.toString(16)}`, `0x${length.toString(16)}`], { outDir });
    expect(r.error).toBeUndefined();
    expect(r.exitCode).toBe(0);
    expect(r.files).toEqual([join(outDir, 'tvm.raw')]);
    const dump = readFileSync(join(outDir, 'tvm.raw'));
    const expected = new Uint8Array(length);
    expected.set(vmi.vmi_read_pa(BigInt(start), 0x100000)[1]);
    expect(dump.length).toBe(length);
    expect(Buffer.compare(dump, Buffer.from(expected))).toBe(0);
    const h = fnv1a64(expected).toString(16).padStart(16, '0');
    expect(r.stdout).toBe(`Dumped ${length} bytes of guest-physical memory [0x${start.toString(16)}, 0x${(start + length).toString(16)}) ` +
      `to /out/tvm.raw: 256 frames read, 256 unreadable (written as zeros); fnv1a64 ${h}\n`);
    // Without a file: the hash alone.
    const nofile = await run('dump-memory', ['dump-memory', '7', '11', '-', `0x${start.toString(16)}`, '0x100000']);
    expect(nofile.stdout).toContain(`fnv1a64 ${fnv1a64(expected.subarray(0, 0x100000)).toString(16).padStart(16, '0')}`);
    expect(nofile.files).toEqual([]);
    // A path outside any preopened directory: said so, hash still printed.
    const outside = await run('dump-memory', ['dump-memory', '7', '11', '/etc/x.raw', '0', '0x1000']);
    expect(outside.stdout).toMatch(/^dump-memory: cannot create \/etc\/x\.raw \(not in a preopened directory\); printing the hash only\nDumped 4096 bytes/);
    // Files are held in memory until the end: their size is bounded.
    const full = await run('dump-memory', ['dump-memory', '7', '11', '/out/big.raw', '0', '0x100000'], { outDir, maxFileBytes: 0x10000 });
    expect(full.exitCode).toBe(1);
    expect(full.stdout).toBe('Failed to save frame.\n');
  });

  it('dump-memory of all guest memory', async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'vmi-dump-'));
    // All of memory takes seconds on a loaded host: more than the default limit (DEFAULT_VMI_LIMITS) allows.
    const r = await run('dump-memory', ['dump-memory', '7', '11'], { outDir, timeLimitMs: 30_000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Dumped ${GUEST_MEM} bytes .* to /out/memory-7\\.raw: 3840 frames read, 256 unreadable`));
    expect(statSync(join(outDir, 'memory-7.raw')).size).toBe(GUEST_MEM);
  });

  it('vmi-request names the request, the requesting task (current task, or by CR3) and lists the processes', async () => {
    const r = await run('vmi-request', ['vmi-request', '7', '11']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(
      'VMI request from domain 7 (tvm): EPTP index 11 (view 1, parameter 1)\n' +
      'Requesting task (current task on vCPU 0): [    7] vmi-trigger (struct addr:ffff888000603000)\n' +
      g.processList());
    const byCr3 = await run('vmi-request', ['vmi-request', '7', '12', '0', g.tasks[4].pgd!.toString(16)]);
    expect(byCr3.stdout.split('\n').slice(0, 2)).toEqual([
      'VMI request from domain 7 (tvm): EPTP index 12 (view 2, parameter 2)',
      `Requesting task (CR3 ${g.tasks[4].pgd!.toString(16)}): [   12] sh (struct addr:ffff888000604000)`,
    ]);
    const unknownCr3 = await run('vmi-request', ['vmi-request', '7', '11', '0', 'abc000']);
    expect(unknownCr3.stdout.split('\n')[1]).toBe('Requesting task (CR3 abc000): not found');
  });

  it('vmi-request finds the current task through the kernel GS base when there is no current_task symbol', async () => {
    const symbols = new SymbolMap([...Object.entries(SYM)].filter(([n]) => n !== 'current_task').map(([n, a]) => [n, a] as [string, bigint]));
    const { sysmap: _s, ...rest } = g.profileJson;
    const v = new Vmi(g.domain, { profile: profileFromObject(rest, '<test>'), symbols });
    const r = await sandbox.run(bundledProgram('vmi-request'), v, { args: ['vmi-request', '7', '11'] });
    expect(r.stdout.split('\n')[1]).toBe('Requesting task (current task on vCPU 0): [    7] vmi-trigger (struct addr:ffff888000603000)');
    // In kernel mode (GS_BASE is the kernel's) the same.
    g.regs.set('gs_base', SYM.cpu0_pcpu); g.regs.set('shadow_gs', 0n);
    try {
      const k = await sandbox.run(bundledProgram('vmi-request'), v, { args: ['vmi-request', '7', '11'] });
      expect(k.stdout.split('\n')[1]).toContain('vmi-trigger');
    } finally {
      g.regs.set('gs_base', 0n); g.regs.set('shadow_gs', SYM.cpu0_pcpu);
    }
  });

  it('syscall-check passes a clean table and names a hooked entry', async () => {
    const clean = await run('syscall-check', ['syscall-check', '7', '11']);
    expect(clean.exitCode).toBe(0);
    expect(clean.stdout).toBe(`System call table of VM tvm (id=7) at ${SYM.sys_call_table.toString(16)}, 3 entries\nNo hooked entries.\n`);
    const slot = SYM.sys_call_table - KERNEL_MAP + 8n;
    g.write64(slot, SYM.evil_hook);
    try {
      const hooked = await run('syscall-check', ['syscall-check', '7', '11']);
      expect(hooked.exitCode).toBe(2);
      expect(hooked.stdout).toBe(`System call table of VM tvm (id=7) at ${SYM.sys_call_table.toString(16)}, 3 entries\n` +
        `[    1] ${SYM.evil_hook.toString(16)} evil_hook <- HOOKED\n1 of 3 entries hooked.\n`);
      g.write64(slot, 0xffffffffc0001234n);   // into a module: no symbol at all
      const mod = await run('syscall-check', ['syscall-check', '7', '11', '2']);
      expect(mod.stdout).toContain('[    1] ffffffffc0001234 (no symbol) <- HOOKED\n');
    } finally {
      g.write64(slot, SYM.sys_write);
    }
  });

  it('bad arguments give a usage message and exit code 1', async () => {
    const none = await run('process-list', ['process-list']);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toBe('Usage: process-list <domid> [eptp_index]\n');
    expect(none.stdout).toBe('');
    const wrongDom = await run('process-list', ['process-list', '3']);
    expect(wrongDom.exitCode).toBe(1);
    expect(wrongDom.stderr).toBe('process-list: this sandbox introspects domain 7, not domain 3\n');
    const notNum = await run('process-list', ['process-list', 'tvm']);
    expect(notNum.stderr).toBe('process-list: bad domain id "tvm"\nUsage: process-list <domid> [eptp_index]\n');
    const badIndex = await run('vmi-request', ['vmi-request', '7', 'x']);
    expect(badIndex.stderr).toMatch(/^vmi-request: bad EPTP index "x"/);
    const noAddr = await run('map-addr', ['map-addr', '7', '11']);
    expect(noAddr.stderr).toBe('Usage: map-addr <domid> <eptp_index> <hex address> [pid] [length]\n');
    const badAddr = await run('map-addr', ['map-addr', '7', '11', 'zz']);
    expect(badAddr.stderr).toMatch(/^map-addr: bad address "zz"/);
    const badStart = await run('dump-memory', ['dump-memory', '7', '11', '-', '0x123']);
    expect(badStart.stderr).toBe('dump-memory: bad start "0x123" (a page-aligned address)\n');
    for (const r of [none, wrongDom, notNum, badIndex, noAddr, badAddr, badStart]) {
      expect(r.exitCode).toBe(1);
      expect(r.error).toBeUndefined();
    }
  });

  it('a profile without the task offsets is reported, not a crash', async () => {
    const v = new Vmi(g.domain, { profile: profileFromObject({ ostype: 'Linux' }, '<empty>'), symbols: SymbolMap.parse(g.sysmap) });
    const r = await sandbox.run(bundledProgram('process-list'), v, { args: ['process-list', '7'] });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('process-list: the profile has no linux_tasks offset\n');
  });
});

describe('containment', () => {
  it('a program that loops is stopped at the time limit, keeping what it printed', async () => {
    const prog = wasm({ imports: [fdWrite], start: [...printAt64(1), ...LOOP_FOREVER], data: [[16, iovec(64, 20)], [64, 'hello from the loop\n']] });
    const t = Date.now();
    const r = await run(prog, ['looper', '7'], { timeLimitMs: 1500 });
    expect(Date.now() - t).toBeLessThan(6000);
    expect(r.exitCode).toBeNull();
    expect(r.errorKind).toBe('timeout');
    expect(r.error).toBe('time limit: stopped after 1500 ms (the program was still running)');
    expect(r.stdout).toBe('hello from the loop\n');
    expect(r.hostNs).toBeGreaterThanOrEqual(1500e6);
  });

  it('a program that floods libvmi is stopped at the call limit', async () => {
    const prog = wasm({ imports: [{ mod: 'libvmi', name: 'get_vmid', params: [], results: [I64] }],
      start: [0x03, 0x40, ...call(0), DROP, 0x0c, 0x00, 0x0b] });
    const r = await run(prog, ['flood'], { maxCalls: 500 });
    expect(r.errorKind).toBe('call-limit');
    expect(r.error).toBe('call limit: stopped at libvmi call 501 (the limit is 500)');
    expect(r.calls).toBe(501);
    const inline = await run(prog, ['flood'], { maxCalls: 500, mode: 'inline' });
    expect(inline.error).toBe('call limit: stopped at libvmi call 501 (the limit is 500)');
  });

  it('traps are reported with their message: unreachable, out of bounds, stack exhaustion', async () => {
    const unreachable = await run(wasm({ start: [0x00] }), ['trap']);
    expect(unreachable.exitCode).toBeNull();
    expect(unreachable.errorKind).toBe('trap');
    expect(unreachable.error).toMatch(/^trap: unreachable at wasm-function\[0\]:0x[0-9a-f]+$/);
    const oob = await run(wasm({ start: [...i32c(-16), 0x28, 2, 0, DROP] }), ['oob']);
    expect(oob.errorKind).toBe('trap');
    expect(oob.error).toMatch(/^trap: memory access out of bounds/);
    const recurse = await run(wasm({ start: [...call(0)] }), ['recurse']);
    expect(recurse.errorKind).toBe('trap');
    expect(recurse.error).toMatch(/^trap: call stack exhausted/);
    const inline = await run(wasm({ start: [0x00] }), ['trap'], { mode: 'inline' });
    expect(inline.error).toMatch(/^trap: unreachable/);
  });

  it('a bad pointer handed to libvmi is a trap, not a host error', async () => {
    const prog = wasm({ imports: [{ mod: 'libvmi', name: 'read_va', params: [I64, I32, I32, I32], results: [I32] }],
      start: [...i64c0, ...i32c(0), ...i32c(65536 - 4), ...i32c(64), ...call(0), DROP] });
    const r = await run(prog, ['badptr']);
    expect(r.errorKind).toBe('trap');
    expect(r.error).toBe('trap: libvmi.read_va: buffer [0xfffc, +64) is outside linear memory (65536 bytes)');
  });

  it('what a program wrote to stderr before trapping is kept (as an AssemblyScript abort does)', async () => {
    const prog = wasm({ imports: [fdWrite], start: [...printAt64(2), 0x00], data: [[16, iovec(64, 22)], [64, 'abort: boom at x.ts:1\n']] });
    const r = await run(prog, ['abort']);
    expect(r.stderr).toBe('abort: boom at x.ts:1\n');
    expect(r.errorKind).toBe('trap');
  });

  it('the memory limit: memory.grow past it fails; a module needing more at start is refused', async () => {
    // grow 100 pages; if that returns -1, trap.
    const grow = wasm({ start: [...i32c(100), 0x40, 0, ...i32c(-1), 0x46, 0x04, 0x40, 0x00, 0x0b] });
    const r = await run(grow, ['grow'], { memoryLimitMiB: 2 });
    expect(r.errorKind).toBe('trap');
    expect(r.error).toMatch(/^trap: unreachable/);
    const ok = await run(grow, ['grow'], { memoryLimitMiB: 16 });
    expect(ok.exitCode).toBe(0);
    const big = await run(wasm({ mem: { min: 64 } }), ['big'], { memoryLimitMiB: 2 });
    expect(big.errorKind).toBe('load');
    expect(big.error).toBe('the module needs 4 MiB of memory at start, more than the limit of 2 MiB');
    // The patch lowers an existing maximum and adds a missing one.
    const patched = new WebAssembly.Module(limitModuleMemory(wasm({ mem: { min: 1, max: 1000 } }), 32) as Uint8Array<ArrayBuffer>);
    expect(new WebAssembly.Instance(patched, {}).exports.memory).toBeInstanceOf(WebAssembly.Memory);
    const mem = new WebAssembly.Instance(patched, {}).exports.memory as WebAssembly.Memory;
    expect(() => mem.grow(32)).toThrow();
    expect(mem.grow(31)).toBe(1);
  });

  it('output beyond the limit is dropped and counted', async () => {
    const prog = wasm({ imports: [fdWrite], start: printAt64(1), mem: { min: 2 }, data: [[16, iovec(64, 100_000)]] });
    const r = await run(prog, ['chatty'], { maxOutputBytes: 1000 });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.length).toBe(1000 + '\n[vmi launcher: 99000 more bytes dropped]\n'.length);
    expect(r.stdout.endsWith('\n[vmi launcher: 99000 more bytes dropped]\n')).toBe(true);
  });

  it('proc_exit gives the exit code; a pause left behind is undone', async () => {
    const exit3 = await run(wasm({ imports: [procExit], start: [...i32c(3), ...call(0)] }), ['exit3']);
    expect(exit3.exitCode).toBe(3);
    expect(exit3.error).toBeUndefined();
    const before = { ...g.pauses };
    const pauser = wasm({ imports: [{ mod: 'libvmi', name: 'pause_vm', params: [], results: [I32] }], start: [...call(0), DROP, 0x00] });
    const r = await run(pauser, ['pauser']);
    expect(r.errorKind).toBe('trap');
    expect(r.pausesReleased).toBe(1);
    expect(g.pauses.pause - before.pause).toBe(1);
    expect(g.pauses.resume - before.resume).toBe(1);
    expect(vmi.pauseCount).toBe(0);
  });

  it('modules that cannot run are reported: missing file, not Wasm, no _start, unknown imports', async () => {
    const missing = await sandbox.run('/nonexistent/prog.wasm', vmi);
    expect(missing).toMatchObject({ exitCode: null, errorKind: 'load', error: '/nonexistent/prog.wasm: cannot read the VMI program (ENOENT)' });
    const notWasm = await sandbox.run(new TextEncoder().encode('#!/bin/sh\necho hi\n'), vmi);
    expect(notWasm).toMatchObject({ errorKind: 'load', error: 'not a WebAssembly module (bad magic number)' });
    const dir = mkdtempSync(join(tmpdir(), 'vmi-'));
    writeFileSync(join(dir, 'bad.wasm'), new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 5, 1]));
    const truncated = await sandbox.run(join(dir, 'bad.wasm'), vmi);
    expect(truncated.errorKind).toBe('load');
    expect(truncated.error).toMatch(/bad\.wasm: (truncated section|invalid module)/);
    const noStart = await run(wasm({ exportStart: false }), ['x']);
    expect(noStart).toMatchObject({ errorKind: 'error', error: 'not a WASI command: the module exports no _start function' });
    const noMem = await run(wasm({ mem: null }), ['x']);
    expect(noMem.error).toBe('not a WASI command: the module exports no memory');
    const unknown = await run(wasm({ imports: [{ mod: 'libvmi', name: 'format_disk', params: [], results: [I32] }] }), ['x']);
    expect(unknown.errorKind).toBe('error');
    expect(unknown.error).toMatch(/^link error: .*format_disk/);
  });

  it('invalid sandbox options are rejected with a clear message', async () => {
    await expect(sandbox.run(wasm({}), vmi, { timeLimitMs: -5 })).rejects.toThrow('VMI launcher: timeLimitMs must be a positive number, got -5');
    await expect(sandbox.run(wasm({}), vmi, { args: ['a', 3 as unknown as string] })).rejects.toThrow('VMI launcher: args must be an array of strings');
    await expect(sandbox.run(wasm({}), vmi, { args: [] })).rejects.toThrow('VMI launcher: args must contain at least the program name');
    await expect(sandbox.run(wasm({}), vmi, { mode: 'fork' as 'inline' })).rejects.toThrow('VMI launcher: mode must be "worker" or "inline"');
  });

  it('after all that the guest and the next program are unaffected', async () => {
    const r = await run('process-list', ['process-list', '7']);
    expect(r.stdout).toBe(g.processList());
    expect(vmi.vmi_read_str_ksym('linux_banner')).toMatch(/^Linux version/);
  });
});

describe('launch overhead', () => {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const measure = async (l: Sandbox, n: number, gapMs: number): Promise<SandboxResult[]> => {
    const rs: SandboxResult[] = [];
    for (let i = 0; i < n; i++) {
      rs.push(await l.run(bundledProgram('process-list'), vmi, { args: ['process-list', '7', '11'] }));
      if (gapMs) await new Promise((res) => setTimeout(res, gapMs));
    }
    return rs;
  };

  it('is measured from the request to the first libvmi call (cold and with a spare worker)', async () => {
    const cold = await measure(sandbox, 5, 0);
    const warmSandbox = new Sandbox({ prewarm: true });
    try {
      await measure(warmSandbox, 1, 0);                                    // the first spare
      const warm = await measure(warmSandbox, 5, 300);                    // each launch finds a ready spare
      for (const r of [...cold, ...warm]) {
        expect(r.stdout).toBe(g.processList());
        expect(r.launchNs).toBeGreaterThan(0);
      }
      const c = median(cold.map((r) => r.launchNs!)), w = median(warm.map((r) => r.launchNs!));
      const total = median(cold.map((r) => r.hostNs));
      console.log(`VMI launch overhead (request -> first libvmi call), median of 5: cold worker ${(c / 1e6).toFixed(1)} ms, ` +
        `spare worker ${(w / 1e6).toFixed(1)} ms; process-list total ${(total / 1e6).toFixed(1)} ms, ${cold[0].calls} libvmi calls`);
      expect(c).toBeLessThan(5e9);
      expect(w).toBeLessThan(c);
    } finally {
      await warmSandbox.close();
    }
  });
});
