// A copy-before-write snapshot of guest RAM per VMI program (issue 11, item 4; src/xen/snapshot.ts).
// It mirrors Xen's mem_access: the launch-time pass restricts writes like p2m_set_mem_access
// (xen/arch/x86/mm/mem_access.c) with XENMEM_access_rx over every view, and a write resolves in
// the EPT-violation path like ept_handle_violation -> p2m_mem_access_check, which here copies the
// frame and restores W instead of sending a vm_event. The TVM guest keeps writing after the
// request: jiffies (a counter, every tick) and its task list and stacks (linked lists).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { I32, wasm, i32c, call, DROP, type Imp } from './helpers/wasm.js';
import { runImageWithLaunches } from '../src/run-launch.js';
import { runImage } from '../src/run.js';
import { loadLaunchConfig, LaunchConfigError, defaultProfile, type LaunchMode } from '../src/dom0/launch.js';
import { Vmi, eptDomainAccess } from '../src/dom0/libvmi/index.js';
import { PLACEHOLDER, xenCosts } from '../src/xen/cost-profiles.js';
import type { Domain } from '../src/xen/domain.js';
import type { MemSnapshot } from '../src/xen/snapshot.js';
import type { MmioDevice } from '../src/xen/devices/mmio.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-snap-'));
const config = (o: unknown) => {
  const f = join(dir, `cfg-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(f, JSON.stringify(o));
  return loadLaunchConfig(f);
};

const readKsym: Imp = { mod: 'libvmi', name: 'read_64_ksym', params: [I32, I32, I32], results: [I32] };
const procExit: Imp = { mod: 'wasi_snapshot_preview1', name: 'proc_exit', params: [I32], results: [] };
const readJiffies = (out: number) => [...i32c(16), ...i32c(7), ...i32c(out), ...call(0)];
/** Reads jiffies, spins `n` iterations (~4 ms modelled at n = 1e6), reads it again; exits (second << 16) | (first & 0xffff). */
const jiffiesTwice = (n: number) => wasm({
  imports: [readKsym, procExit], locals: [I32], data: [[16, 'jiffies']],
  start: [
    ...readJiffies(0),
    DROP, ...i32c(n), 0x21, 0, 0x02, 0x40, 0x03, 0x40, 0x20, 0, 0x45, 0x0d, 1,
    0x20, 0, ...i32c(1), 0x6b, 0x21, 0, 0x0c, 0, 0x0b, 0x0b,
    ...readJiffies(8),
    DROP, ...i32c(0), 0x28, 2, 8, ...i32c(16), 0x74, ...i32c(0), 0x28, 2, 0, ...i32c(0xffff), 0x71, 0x72,
    ...call(1),
  ],
});
const jiffiesProg = join(dir, 'jiffies.wasm');
writeFileSync(jiffiesProg, jiffiesTwice(1_000_000));

/** A run with one program for parameter 1; the domain, the launch log, and a whole-RAM image at the request. */
async function launchRun(prog: unknown, o: { mode?: LaunchMode; extra?: Record<string, unknown>; atRelease?: (d: Domain, s: MemSnapshot, r0: Uint8Array) => void } = {}) {
  let d!: Domain;
  const log: string[] = [];
  let atRequest: Uint8Array | undefined;
  const s = await runImageWithLaunches({
    launchMode: o.mode, launchConfig: config({ programs: { 1: prog }, ...o.extra }), onLaunchLog: (l) => log.push(l),
    beforeRun: (dd) => { d = dd; },
    vmi: {
      onRequest: (_h, dd) => {
        // The launch (and its snapshot) has just happened, at this instant.
        if (atRequest) return;
        atRequest = dd.readGuestPhys(0, dd.memBytes);
        const snap = dd.snapshot;
        if (snap && o.atRelease) {
          const release = snap.release.bind(snap);
          snap.release = () => { o.atRelease!(dd, snap, atRequest!); return release(); };
        }
      },
    },
  });
  return { s, d, log, atRequest: atRequest! };
}

const exitOf = (code: number) => ({ first: code & 0xffff, second: code >>> 16 });

describe('copy-before-write snapshot (Xen p2m_set_mem_access + p2m_mem_access_check shape)', () => {
  it('a counter the guest keeps writing reads as of the request instant; without the snapshot it moves', async () => {
    const off = await launchRun(jiffiesProg);
    const o = exitOf(off.s.vmi_programs[0].exit_code!);
    expect(o.second - o.first).toBeGreaterThanOrEqual(3);   // ~4 ms of guest ticks between the reads
    const on = await launchRun({ name: jiffiesProg, snapshot: true });
    const p = on.s.vmi_programs[0];
    expect(p.error).toBeUndefined();
    const n = exitOf(p.exit_code!);
    expect(n.second).toBe(n.first);
    // The value at the request instant (read from the whole-RAM image taken then).
    const vmi = new Vmi(eptDomainAccess(on.d.machine, { id: 1, name: 'd', memsize: on.d.memBytes, eptp: () => on.d.p2m.eptp() }),
      { profile: defaultProfile() });
    const [, addr] = vmi.vmi_translate_ksym2v('jiffies');
    const gpa = Number(vmi.vmi_translate_kv2p(addr)[1]);
    const dv = new DataView(on.atRequest.buffer, on.atRequest.byteOffset);
    expect(n.first).toBe(Number(dv.getBigUint64(gpa, true) & 0xffffn));
    expect(o.first).toBeGreaterThan(n.first);                 // live, even the first read (after the 1 ms launch) is later
    expect(on.d.snapshot).toBeUndefined();                    // released at the program's end
    const rel = on.log.find((l) => l.includes('snapshot released'))!;
    expect(rel).toMatch(/: snapshot released: \d+ frames copied \(limit 1024\)/);
  });

  it('at the program\'s end, all of RAM read through the driver is the request instant\'s, though the guest wrote on', async () => {
    let checked = false;
    const r = await launchRun({ name: 'process-list', snapshot: true }, {
      atRelease: (d, snap, r0) => {
        const live = d.readGuestPhys(0, d.memBytes)!;
        const acc = eptDomainAccess(d.machine, { id: 1, name: 'd', memsize: d.memBytes, eptp: () => d.p2m.eptp(), snapshotCopy: (g) => snap.copyOf(g) });
        let differ = 0;
        for (let g = 0; g < d.memBytes; g += 4096) {
          const seen = acc.readGpa(BigInt(g), 4096)!;
          expect(Buffer.compare(seen, r0.subarray(g, g + 4096))).toBe(0);
          if (Buffer.compare(live.subarray(g, g + 4096), r0.subarray(g, g + 4096))) differ++;
        }
        expect(differ).toBeGreaterThan(0);                    // the guest did write meanwhile
        expect(snap.stats.copies).toBeGreaterThanOrEqual(differ);
        checked = true;
      },
    });
    expect(checked).toBe(true);
    const p = r.s.vmi_programs[0];
    expect(p.exit_code).toBe(0);
    expect(p.stdout).toContain('vmireq');
  });

  it('the guest\'s run is unchanged but for the modelled exits: same console, same instructions; copies cost exits', async () => {
    const off = await launchRun('process-list');
    const on = await launchRun({ name: 'process-list', snapshot: true });
    expect(on.s.console_bytes).toBe(off.s.console_bytes);
    expect(on.s.insns).toBe(off.s.insns);
    expect(on.s.exit.status).toBe(off.s.exit.status);
    const copies = Number(/(\d+) frames copied/.exec(on.log.find((l) => l.includes('snapshot released'))!)![1]);
    expect(copies).toBeGreaterThan(0);
    const ev = (s: typeof on.s) => s.exits.by_reason.EPT_VIOLATION ?? 0;
    // run enables #VE with VMI; suppress-#VE makes each protected write an exit, one per copied frame.
    expect(ev(on.s) - ev(off.s)).toBe(copies);              // one exit per copied frame, no other
    const c = PLACEHOLDER;
    const x = xenCosts(c);
    const perCopy = x.vmexitRoundTrip + (x.handler.EPT_VIOLATION ?? x.handlerDefault);
    expect(on.s.exit_cycles - off.s.exit_cycles).toBe(copies * perCopy);
    const taken = on.log.find((l) => l.includes('snapshot of guest memory taken'))!;
    const m = /(\d+) EPT leaf entries write-protected in (\d+) views \((\d+) cycles modelled/.exec(taken)!;
    expect(Number(m[3])).toBe(c.snapshotPass.value + Number(m[1]) * c.snapshotProtectEntry.value);
    expect(Number(m[2])).toBe(5);                             // host p2m, altp2m views 0-1 and their mirrors 10-11
    expect(on.s.vmi_programs[0].stdout).toContain('vmireq');
  });

  it('copies are bounded: past snapshot_max_copies the snapshot is abandoned, released, and the program completes', async () => {
    const r = await launchRun({ name: jiffiesProg, snapshot: true }, { extra: { snapshot_max_copies: 1 } });
    expect(r.log.find((l) => l.includes('snapshot released'))).toContain('1 frames copied (limit 1, reached: abandoned)');
    expect(r.s.vmi_programs[0].error).toBeUndefined();
    expect(r.d.snapshot).toBeUndefined();
    expect(r.s.exit.status).toBe(0);
  });

  it('is harmless in pause mode (no snapshot: the guest waits anyway) and off by default', async () => {
    const off = await launchRun(jiffiesProg, { mode: 'pause' });
    const on = await launchRun({ name: jiffiesProg, snapshot: true }, { mode: 'pause' });
    expect(on.s.vmi_programs[0].exit_code).toBe(off.s.vmi_programs[0].exit_code);
    expect(on.s.insns).toBe(off.s.insns);
    expect(on.s.vcycles).toBe(off.s.vcycles);
    expect(on.log.some((l) => l.includes('no snapshot in pause mode'))).toBe(true);
    expect(off.log.some((l) => l.includes('snapshot'))).toBe(false);
  });

  it('the launch configuration: the string form stays valid, the object form selects the snapshot, errors name the field', () => {
    expect(config({ programs: { 1: 'process-list' } }).snapshot).toBeUndefined();
    const c = config({ programs: { 1: { name: 'process-list', snapshot: true }, 2: { name: 'syscall-check' } }, snapshot_max_copies: 8 });
    expect(c.programs[1]).toBe('process-list');
    expect(c.programs[2]).toBe('syscall-check');
    expect(c.snapshot).toEqual({ 1: true });
    expect(c.snapshotMaxCopies).toBe(8);
    expect(() => config({ programs: { 1: { name: 'x', snapshot: 'yes' } } })).toThrow(/programs."1".snapshot must be true or false/);
    expect(() => config({ programs: { 1: { name: 'x', copy: true } } })).toThrow(/programs."1": unknown field "copy"/);
    expect(() => config({ programs: { 1: { snapshot: true } } })).toThrow(LaunchConfigError);
    expect(() => config({ snapshot_max_copies: 0 })).toThrow(/"snapshot_max_copies" must be a positive integer/);
  });

  it('works in worker mode too (the host-time race): both reads see the request instant', async () => {
    const r = await launchRun({ name: jiffiesProg, snapshot: true }, { mode: 'worker' });
    const n = exitOf(r.s.vmi_programs[0].exit_code!);
    expect(n.second).toBe(n.first);
    expect(r.d.snapshot).toBeUndefined();
  });

  it('the hypervisor\'s own writes copy first; release lifts every restriction and returns the copies to the pool', () => {
    let d!: Domain;
    runImage({ vmi: {}, maxInsns: 10_000n, beforeRun: (dd) => { d = dd; } });
    const before = d.readGuestPhys(0x10000, 16)!;
    const snap = d.takeSnapshot()!;
    expect(d.takeSnapshot()).toBeUndefined();                 // one at a time
    expect(snap.protects(0x10000)).toBe(true);
    d.writeGuestPhys(0x10008, new Uint8Array([1, 2, 3, 4]));
    expect(snap.stats.copies).toBe(1);
    expect(snap.protects(0x10000)).toBe(false);
    expect(d.machine.readPhys(snap.copyOf(0x10000)!, 16)).toEqual(before);
    // W is back for that frame in every view (the superpage was split), suppress-#VE as it was.
    expect(d.p2m.leaf(0x10000n) & 2n).toBe(2n);
    expect(d.p2m.leaf(0x11000n) & 2n).toBe(0n);
    expect(d.p2m.leaf(0x11000n) >> 63n).toBe(1n);            // suppress-#VE: a write exits even with #VE on
    const free = d.frames.freeFrames;
    snap.release();
    expect(d.snapshot).toBeUndefined();
    expect(d.p2m.leaf(0x11000n) & 2n).toBe(2n);
    expect(d.p2m.leaf(0x11000n) >> 63n).toBe(0n);
    const again = d.takeSnapshot()!;
    d.writeGuestPhys(0x20000, new Uint8Array([9]));
    expect(again.stats.copies).toBe(1);
    expect(d.frames.freeFrames).toBe(free);                   // the released copy frame was reused
    again.release();
  });

  it.skipIf(!haveAssembler())('a store inside an emulated MMIO instruction (MOVS from a device into protected RAM) copies and restarts it', () => {
    const OUT = 0x200000, DEV = 0x380000;   // 3 MiB of RAM: 0x380000 has none (MMIO), as in mmio.test.ts
    const reads: string[] = [];
    const dev: MmioDevice = {
      name: 'test device', range: { base: DEV, size: 0x1000 },
      read: (gpa, size) => { reads.push(`r ${gpa.toString(16)} ${size}`); return 0xabn; },
      write: () => {},
    };
    const file = join(dir, 'movs.elf');
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(`
      mov rsi, ${DEV}
      mov rdi, ${OUT + 0x100}
      movsb
      mov qword ptr [${OUT + 8}], 7
      xor eax, eax
      mov dx, 0x501
      out dx, eax`, 0x100000) }]));
    let d!: Domain;
    let snap!: MemSnapshot;
    const s = runImage({ image: file, systemMap: false, memMiB: 3, maxInsns: 1_000_000n,
      beforeRun: (dom) => { d = dom; dom.mmio.registerMmioHandler(dev); snap = dom.takeSnapshot()!; } });
    expect(s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(d.readGuestPhys(OUT + 0x100, 1)![0]).toBe(0xab);
    expect(d.machine.readPhys(snap.copyOf(OUT)!, 0x101)[0x100]).toBe(0);   // the copy holds the frame as it was
    expect(reads).toEqual(['r 380000 1', 'r 380000 1']);                    // the device read repeated by the restart
    expect(snap.stats.copies).toBe(1);
    snap.release();
  });
});
