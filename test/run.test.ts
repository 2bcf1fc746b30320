// The TVM booted end to end on the hypervisor (src/xen/), `vmfunc-vmi run`,
// determinism, and domain crashes (firmware/README.md, issue 4).
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage, parseVtime, parseCount, defaultImagePath, type RunSummary } from '../src/run.js';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { EptTable, EPT_RWX, EPT_X } from '../src/xen/ept.js';
import { PAGE_SIZE } from '../src/xen/frames.js';
import { BOOTINFO_F_VMFUNC, VE_INFO_GPA } from '../src/xen/boot.js';
import { SECONDARY_EXEC_ENABLE_VMFUNC } from '../src/vmcs.js';
import type { Domain } from '../src/xen/domain.js';
import { makeElf } from './helpers/elf.js';
import { runCli } from './helpers/cli.js';

interface Booted { summary: RunSummary; console: string; log: string[] }

function boot(opts: Parameters<typeof runImage>[0] = {}): Booted {
  const chunks: Buffer[] = [];
  const log: string[] = [];
  const summary = runImage({ maxInsns: 200_000_000n, ...opts, onConsole: (b) => chunks.push(Buffer.from(b)), onLog: (l) => log.push(l) });
  return { summary, console: Buffer.concat(chunks).toString('latin1'), log };
}

const tmp = mkdtempSync(join(tmpdir(), 'vmvmi-run-'));
function imageFile(name: string, bytes: Uint8Array): string {
  const p = join(tmp, name);
  writeFileSync(p, bytes);
  return p;
}

describe('the TVM on the hypervisor', () => {
  let a: Booted;
  beforeAll(() => { a = boot(); });

  it('boots, runs its programs and shuts down through the exit port with status 0', () => {
    expect(a.summary.exit).toEqual({ status: 0, kind: 'shutdown', reason: 'poweroff', detail: 'exit port 0x501: status 0' });
    expect(a.console).toContain('TVM mini-OS 1.0');
    expect(a.console).toContain('Hypervisor detected: Xen HVM');
    expect(a.console).toContain('Xen version 4.17.');
    expect(a.console).toMatch(/System\.map: \d+ bytes at [0-9a-f]+; init_task at ffffffff8[0-9a-f]+ \(matches\)/);
    expect(a.console).toContain('Run /init as init process');
    expect(a.console).toContain('init: 3 of 3 programs ran to completion');
    expect(a.console).toContain('reboot: Power down (status 0)');
  });

  it('schedules several processes round-robin: the two CPU-bound workers interleave', () => {
    for (const pid of [2, 3]) {
      for (let r = 1; r <= 4; r++) expect(a.console).toMatch(new RegExp(`worker\\[${pid}\\]: round ${r}/4 checksum [0-9a-f]{8}`));
    }
    const order = [...a.console.matchAll(/worker\[(\d)\]: round/g)].map((m) => m[1]).join('');
    expect(order).not.toMatch(/^2+3+$|^3+2+$/);   // neither ran all its rounds before the other started
    expect(a.console).toMatch(/init: spawned worker \(arg 1\) as pid 2\ninit: spawned worker \(arg 2\) as pid 3\ninit: spawned vmireq \(arg 1\) as pid 4/);
    for (const pid of [2, 3, 4]) expect(a.console).toContain(`init: pid ${pid} exited with status 0`);
  });

  it('keeps a Linux-like task list headed by init_task', () => {
    expect(a.console).toMatch(/\[    0\] swapper \(struct addr:ffffffff8[0-9a-f]+\)/);
    expect(a.console).toMatch(/\[    1\] init \(struct addr:ffff888[0-9a-f]+\) state R parent 0/);
    expect(a.console).toMatch(/\[    4\] vmireq \(struct addr:ffff888[0-9a-f]+\) state [RS] parent 1/);
  });

  it('makes system calls: vmi_trigger issues the hypercall that sets and clears RDTSC exiting', () => {
    expect(a.console).toContain('vmi: vmireq[4] turned the VMI trigger on (hvm_op 16385: 0)');
    expect(a.console).toContain('vmi: vmireq[4] turned the VMI trigger off (hvm_op 16385: 0)');
    expect(a.log).toContain('d1v0 VMI trigger on: RDTSC exiting set');
    expect(a.log).toContain('d1v0 VMI trigger off: RDTSC exiting cleared');
    expect(a.summary.hypercalls).toEqual({ xen_version: 1, hvm_op: 2 });
    expect(a.summary.exits.by_reason.RDTSC).toBeGreaterThan(4);   // while the trigger was on, every RDTSC exited
    expect(a.console).toMatch(/vmireq\[4\]: rdtsc \d+ \(\+\d+\)/);
    expect(a.console).toContain('vmireq[4]: no EPTP switching offered (VMFUNC unavailable): no request sent');
  });

  it('takes timer ticks (injected on vector 0x20) and idles with HLT until the next tick', () => {
    expect(a.summary.timer.vector).toBe(0x20);
    expect(a.summary.timer.ticks_injected).toBeGreaterThanOrEqual(8);
    expect(a.summary.exits.by_reason.HLT).toBeGreaterThan(0);
    expect(a.summary.halted_cycles).toBeGreaterThan(0);
    expect(a.console).toContain('clocksource: tsc, timer interrupt on vector 0x20 every 2000000 cycles (1000 us)');
    // Virtual time: the worker sees cycles that include the other worker's slices.
    expect(a.summary.vcycles).toBeGreaterThan(a.summary.insns);
  });

  it('sees only what real Xen would: no exception exits, every exit reason handled', () => {
    expect(a.summary.exits.by_reason.EXCEPTION_NMI).toBeUndefined();
    expect(Object.keys(a.summary.exits.by_reason).sort()).toEqual(
      expect.arrayContaining(['CPUID', 'IO_INSTRUCTION', 'MSR_WRITE', 'VMCALL', 'HLT']));
    expect(a.summary.exits.total).toBe(Object.values(a.summary.exits.by_reason).reduce((x, y) => x + y, 0));
  });

  it('reaches the first user process within a few million instructions', () => {
    const fu = a.summary.first_user_process!;
    expect(fu).not.toBeNull();
    expect(fu.insns).toBeLessThan(2_000_000);
    expect(fu.host_ms).toBeLessThan(a.summary.host_ms);
  });

  it('is deterministic: a second run retires the same instructions with the same output and exits', () => {
    const b = boot();
    expect(b.summary.insns).toBe(a.summary.insns);
    expect(b.summary.vcycles).toBe(a.summary.vcycles);
    expect(b.summary.exits).toEqual(a.summary.exits);
    expect(b.console).toBe(a.console);
  });
});

describe('guest faults and domain crashes', () => {
  it('a user-mode fault is the guest kernel\'s business: it kills the task, no VM exit', () => {
    const r = boot({ cmdline: 'init=crashme' });
    expect(r.console).toContain('Command line: init=crashme');
    expect(r.console).toMatch(/crashme\[1\]: segfault at 0 ip [0-9a-f]{16} sp [0-9a-f]{16} error 6 in crashme\[400000\+1000\]/);
    expect(r.console).toContain('tvm: init killed by signal 11');
    expect(r.summary.exit.status).toBe(128 + 11);
    expect(r.summary.exits.by_reason.EXCEPTION_NMI).toBeUndefined();
  });

  it('unknown kernel parameters are reported, as Linux does', () => {
    const r = boot({ cmdline: 'quiet init=/init', maxInsns: 1_500_000n });
    expect(r.console).toContain('Unknown kernel command line parameter "quiet", ignored');
    expect(r.console).toContain('Run /init as init process');
  });

  it('a triple fault crashes the domain with a register dump; the host carries on', () => {
    // mov dx, 0x3f8; mov al, 'X'; out dx, al; ud2 -- with no IDT (the boot protocol's IDTR limit is 0).
    const code = new Uint8Array([0x66, 0xba, 0xf8, 0x03, 0xb0, 0x58, 0xee, 0x0f, 0x0b]);
    const img = imageFile('triple.elf', makeElf(0x100000, [{ paddr: 0x100000, data: code, flags: 5 }]));
    const r = boot({ image: img, systemMap: false });
    expect(r.console).toBe('X');
    expect(r.summary.exit).toMatchObject({ status: 125, kind: 'crash', reason: 'crash' });
    expect(r.summary.exits.by_reason.TRIPLE_FAULT).toBe(1);
    expect(r.log[0]).toMatch(/^d1v0 Triple fault \(while delivering vector 8\) - invoking HVM shutdown action 3/);
    expect(r.log).toContain('*** Dumping Dom1 vcpu#0 state: ***');
    expect(r.log).toContain('RIP:    0008:[<0000000000100007>]');
    expect(r.log.some((l) => /^rax: [0-9a-f]{16}   rbx: /.test(l))).toBe(true);
    expect(r.log.some((l) => /^cr3: 0000000000010000   cr2: /.test(l))).toBe(true);
  });

  it('an access to guest-physical memory with nothing behind it is an EPT violation emulated as MMIO (test/mmio.test.ts)', () => {
    // 3 MiB of RAM, but the loader's 2 MiB pages map up to 4 MiB: read 0x380000.
    const code = new Uint8Array([0x48, 0x8b, 0x04, 0x25, 0x00, 0x00, 0x38, 0x00, 0xf4]);  // mov rax, [0x380000]; hlt
    const img = imageFile('ept.elf', makeElf(0x100000, [{ paddr: 0x100000, data: code, flags: 5 }]));
    const r = boot({ image: img, systemMap: false, memMiB: 3 });
    expect(r.summary.exits.by_reason.EPT_VIOLATION).toBe(1);
    // hvmemul_do_io's message for an access no device model takes, once for the page.
    expect(r.log[0]).toBe('d1v0 unhandled memory read from 0x380000 size 8');
    expect(r.log[1]).toMatch(/HLT with interrupts disabled/);
  });

  it('an image that halts with interrupts disabled powers off, as Xen\'s hvm_hlt does', () => {
    const img = imageFile('cli-hlt.elf', makeElf(0x100000, [{ paddr: 0x100000, data: new Uint8Array([0xfa, 0xf4]), flags: 5 }]));
    const r = boot({ image: img, systemMap: false });
    expect(r.summary.exit).toMatchObject({ status: 0, kind: 'shutdown', reason: 'poweroff' });
    expect(r.log[0]).toMatch(/HLT with interrupts disabled/);
  });
});

function bigImage(): string {
  return imageFile('big.elf', makeElf(0x100000, [{ paddr: 0x100000, data: new Uint8Array([0xf4]), memsz: 0x180000, flags: 7 }]));
}

describe('the #VE handler', () => {
  it('reads the information area, clears the busy word and continues in EPT view 0', () => {
    // The guest starts in view 1, where one page of the kernel image (inside the embedded vmireq
    // program, first read when init spawns it) is execute-only with suppress-#VE clear.
    const map = readFileSync(join(dirname(defaultImagePath()), 'System.map'), 'latin1');
    const sym = (n: string) => BigInt('0x' + new RegExp(`^([0-9a-f]{16}) \\w ${n}$`, 'm').exec(map)![1]);
    const target = ((sym('__prog_vmireq_start') - 0xffffffff80000000n) & ~0xfffn) + 0x1000n;
    let dom: Domain | undefined;
    const r = boot({
      memMiB: 16, domain: { ve: true }, boot: { flags: BOOTINFO_F_VMFUNC, eptpViews: 2 },
      beforeRun: (d) => {
        dom = d;
        const view1 = new EptTable(d.machine, d.frames);
        const two = 2n << 20n, region = target & ~(two - 1n), ram = BigInt(d.memBytes), base = BigInt(d.ramBase);
        if (region > 0n) view1.map(0n, base, region, EPT_RWX, '2m');
        view1.map(region, base + region, two, EPT_RWX, '4k');
        if (region + two < ram) view1.map(region + two, base + region + two, ram - region - two, EPT_RWX, '2m');
        view1.setAccess(target, EPT_X, false);
        const list = d.frames.alloc() * PAGE_SIZE;
        for (let i = 0; i < 512; i++) d.machine.write64(list + i * 8, i === 1 ? view1.eptp() : d.p2m.eptp());
        const m = d.machine;
        for (const v of d.vcpus) v.setSecondaryExecControl(SECONDARY_EXEC_ENABLE_VMFUNC, true);
        m.vmwrite('VM_FUNCTION_CONTROL', 1);
        m.vmwrite('EPTP_LIST_ADDR', list);
        m.vmwrite('EPT_POINTER', view1.eptp());
        m.vmwrite('EPTP_INDEX', 1);
        m.invept();
      },
      onLog: () => {},
    });
    const ve = new RegExp(`#VE: EPT violation \\(reason 48, busy ffffffff\\) gpa ${target.toString(16)} gla ffffffff8${target.toString(16).padStart(7, '0')} qualification [0-9a-f]+ view 1 at ip ffffffff8[0-9a-f]+ in init\\[1\\]`);
    expect(r.console).toMatch(ve);
    expect(r.console).toContain('#VE: switching to EPT view 0');
    expect(r.console).toContain('init: 3 of 3 programs ran to completion');
    expect(r.summary.exit.status).toBe(0);
    expect(r.summary.exits.by_reason.EPT_VIOLATION).toBeUndefined();   // delivered as #VE, no exit
    const info = new DataView(dom!.readGuestPhys(VE_INFO_GPA, 40)!.buffer);
    expect(info.getUint32(0, true)).toBe(48);          // exit reason: EPT violation
    expect(info.getUint32(4, true)).toBe(0);           // busy word cleared by the handler
    expect(info.getBigUint64(24, true)).toBe(target);  // guest-physical address
    expect(info.getUint16(32, true)).toBe(1);          // EPTP index of the view that faulted
  });
});

describe('vmfunc-vmi run', () => {
  it('parses counts and virtual times', () => {
    expect(parseCount('5M', '--max-insns')).toBe(5_000_000n);
    expect(parseCount('1200', '--max-insns')).toBe(1200n);
    expect(parseVtime('10ms', 2_000_000)).toBe(20_000_000n);
    expect(parseVtime('2.5us', 2_000_000)).toBe(5000n);
    expect(parseVtime('3000000', 2_000_000)).toBe(3_000_000n);
    expect(parseVtime('3Mcycles', 2_000_000)).toBe(3_000_000n);
    expect(() => parseVtime('3 parsecs', 2_000_000)).toThrow(/not a virtual time/);
    expect(() => parseCount('-1', '--max-insns')).toThrow(/not a count/);
  });

  it('streams the console to stdout and exits with the guest\'s status', async () => {
    const r = await runCli(['run']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('init: 3 of 3 programs ran to completion');
    expect(r.stderr).toContain('(XEN) d1v0 VMI trigger on: RDTSC exiting set');
  });

  it('--json prints the summary (exit histogram, times) on stdout and the console on stderr', async () => {
    const r = await runCli(['run', '--json', '--max-vtime', '2ms', '--mem', '32', '--cmdline', 'initarg=2']);
    expect(r.code).toBe(124);
    const s = JSON.parse(r.stdout) as RunSummary;
    expect(s.exit).toMatchObject({ kind: 'limit', reason: 'max-vtime', status: 124 });
    expect(s.vcycles).toBeGreaterThanOrEqual(4_000_000);
    expect(s.vcycles).toBeLessThan(4_100_000);
    expect(s.mem_mib).toBe(32);
    expect(s.exits.by_reason.IO_INSTRUCTION).toBeGreaterThan(100);
    expect(typeof s.host_ms).toBe('number');
    expect(s.first_user_process).not.toBeNull();
    expect(s.vmi_requests).toEqual([]); // 2 ms is before vmireq asks
    expect(r.stderr).toContain('Command line: initarg=2');
  });

  it('--max-insns stops the guest at exactly that many instructions', async () => {
    const r = await runCli(['run', '--json', '--max-insns', '250k']);
    expect(r.code).toBe(124);
    expect(JSON.parse(r.stdout).insns).toBe(250_000);
  });

  it.each([
    [['run', '--mem', 'lots'], 2, /^vmfunc-vmi: --mem: "lots" is not a size in MiB\n$/],
    [['run', '--mem', '1'], 2, /^vmfunc-vmi: --mem: 1 is not a guest memory size in MiB/],
    [['run', '--max-insns', 'x'], 2, /^vmfunc-vmi: --max-insns: "x" is not a count/],
    [['run', '--max-vtime', '5 fortnights'], 2, /^vmfunc-vmi: --max-vtime: "5 fortnights" is not a virtual time/],
    [['run', '--cmdline', 'x'.repeat(5000)], 2, /^vmfunc-vmi: the command line is 5000 bytes; the boot protocol allows 4095\n$/],
    [['run', '/nonexistent/image.elf'], 1, /^vmfunc-vmi: \/nonexistent\/image\.elf: cannot open the image: no such file\n$/],
    [['run', tmpdir()], 1, /cannot read the image: it is a directory\n$/],
    [['run', '--system-map', '/nonexistent/System.map'], 1, /System\.map: cannot open System\.map: no such file\n$/],
    [['run', '--mem', '2', bigImage()], 1, /big\.elf: segment 0 \(PT_LOAD\) at p_paddr 0x100000\+0x180000 ends beyond the guest's 2 MiB of memory \(--mem\)\n$/],
  ])('bad input %j: one line, status %i, no stack trace', async (args, code, msg) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(code);
    expect(r.stderr).toMatch(msg);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout).toBe('');
  });
});
