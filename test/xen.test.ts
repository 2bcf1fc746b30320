// The hypervisor's exit handlers (src/xen/), each driven by a small guest
// assembled with GNU as and booted by the boot protocol.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage, type RunSummary, type RunOptions } from '../src/run.js';
import type { Domain } from '../src/xen/domain.js';
import { asm, haveAssembler, tickLoop } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-xen-'));
let seq = 0;
const OUT = 0x200000;   // where the guests store results

interface AsmRun { s: RunSummary; d: Domain; console: string; log: string[]; u32(off: number): number; u64(off: number): bigint }

function runAsm(src: string, opts: Partial<RunOptions> = {}): AsmRun {
  const file = join(dir, `g${seq++}.elf`);
  writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
  let d: Domain | undefined;
  const chunks: number[] = [], log: string[] = [];
  const s = runImage({ image: file, systemMap: false, maxInsns: 5_000_000n, ...opts,
    onConsole: (b) => chunks.push(...b), onLog: (l) => log.push(l), beforeRun: (dom) => { d = dom; } });
  const mem = (off: number, n: number) => new DataView(d!.readGuestPhys(OUT + off, n)!.buffer);
  return { s, d: d!, console: Buffer.from(chunks).toString('latin1'), log,
    u32: (off) => mem(off, 4).getUint32(0, true), u64: (off) => mem(off, 8).getBigUint64(0, true) };
}

const EXIT0 = 'xor eax, eax\nmov dx, 0x501\nout dx, eax\n';
const HYPERCALL_PAGE = 'mov ecx, 0x40000000\nmov eax, 0x300000\nxor edx, edx\nwrmsr\n';
const call = (nr: number) => `mov rax, ${0x300000 + nr * 32}\ncall rax\n`;

describe.skipIf(!haveAssembler())('Xen exit handlers', () => {
  it('CPUID: Xen\'s leaves at 0x40000000 (signature, version, hypercall MSR, time, HVM ids)', () => {
    const r = runAsm(`
      mov eax, 0x40000000
      cpuid
      mov [${OUT}], eax
      mov [${OUT + 4}], ebx
      mov [${OUT + 8}], ecx
      mov [${OUT + 12}], edx
      mov eax, 0x40000001
      cpuid
      mov [${OUT + 16}], eax
      mov eax, 0x40000002
      cpuid
      mov [${OUT + 20}], eax
      mov [${OUT + 24}], ebx
      mov eax, 0x40000003
      xor ecx, ecx
      cpuid
      mov [${OUT + 28}], ecx
      mov eax, 0x40000004
      xor ecx, ecx
      cpuid
      mov [${OUT + 32}], eax
      mov [${OUT + 36}], ecx
      mov eax, 0x40000006
      cpuid
      mov [${OUT + 40}], eax
      mov eax, 1
      cpuid
      mov [${OUT + 44}], ecx
      ${EXIT0}`);
    expect(r.s.exit.status).toBe(0);
    expect(r.u32(0)).toBe(0x40000005);
    expect(Buffer.from(r.d.readGuestPhys(OUT + 4, 12)!).toString()).toBe('XenVMMXenVMM');
    expect(r.u32(16)).toBe((4 << 16) | 17);
    expect([r.u32(20), r.u32(24)]).toEqual([1, 0x40000000]);
    expect(r.u32(28)).toBe(2_000_000);                  // tsc_khz
    expect(r.u32(32) & 0x18).toBe(0x18);                // vCPU id and domid present
    expect(r.u32(36)).toBe(1);                          // domid
    expect(r.u32(40)).toBe(0);                          // beyond the last leaf
    expect(r.u32(44) >>> 31).toBe(1);                   // CPUID.1:ECX.hypervisor
    expect(r.s.exits.by_reason.CPUID).toBe(7);
  });

  it('hypercalls: the hypercall page, console_io, xen_version, -ENOSYS, SCHEDOP_shutdown', () => {
    const r = runAsm(`
      ${HYPERCALL_PAGE}
      xor edi, edi
      mov esi, 5
      lea rdx, [rip + msg]
      ${call(18)}
      mov [${OUT}], rax
      xor edi, edi
      xor esi, esi
      ${call(17)}
      mov [${OUT + 8}], rax
      mov eax, 60
      vmcall
      mov [${OUT + 16}], rax
      mov edi, 2
      lea rsi, [rip + reason]
      ${call(29)}
      hlt
      msg: .ascii "hello"
      reason: .long 3`);
    expect(r.console).toBe('hello');
    expect(r.u64(0)).toBe(0n);
    expect(r.u64(8)).toBe(0x40011n);
    expect(r.u64(16)).toBe(BigInt.asUintN(64, -38n));
    expect(r.s.exit).toMatchObject({ kind: 'crash', reason: 'crash', status: 125, detail: 'SCHEDOP_shutdown (crash)' });
    expect(r.s.hypercalls).toEqual({ xen_version: 1, console_io: 1, hypercall_60: 1, sched_op: 1 });
    // Xen's stub layout: mov $nr, %eax; vmcall; ret -- and ud2 for __HYPERVISOR_iret.
    expect([...r.d.readGuestPhys(0x300000 + 18 * 32, 9)!]).toEqual([0xb8, 18, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3]);
    expect([...r.d.readGuestPhys(0x300000 + 23 * 32, 2)!]).toEqual([0x0f, 0x0b]);
    expect(r.log).toContain('d1v0 hypercall page installed at gfn 0x300');
  });

  it('HVMOP_vmi_trigger sets and clears RDTSC exiting; the RDTSC exit is emulated from virtual time + TSC_OFFSET', () => {
    const r = runAsm(`
      ${HYPERCALL_PAGE}
      mov edi, 0x4001
      lea rsi, [rip + trig]
      ${call(34)}
      mov [${OUT}], rax
      rdtsc
      mov [${OUT + 8}], eax
      mov [${OUT + 12}], edx
      rdtsc
      mov [${OUT + 16}], eax
      mov [${OUT + 20}], edx
      mov dword ptr [rip + trig + 4], 0
      mov edi, 0x4001
      lea rsi, [rip + trig]
      ${call(34)}
      rdtsc
      mov word ptr [rip + trig], 5
      mov edi, 0x4001
      lea rsi, [rip + trig]
      ${call(34)}
      mov [${OUT + 24}], rax
      mov dword ptr [rip + trig + 4], 7
      mov word ptr [rip + trig], 1
      mov edi, 0x4001
      lea rsi, [rip + trig]
      ${call(34)}
      mov [${OUT + 32}], rax
      ${EXIT0}
      trig: .word 0x7ff0, 0
            .long 1`);
    expect(r.s.exit.status).toBe(0);
    expect(r.u64(0)).toBe(0n);
    expect(r.s.exits.by_reason.RDTSC).toBe(2);            // only while the trigger was on
    const t1 = r.u64(8), t2 = r.u64(16);
    expect(t2).toBeGreaterThan(t1 + 1000n);              // the exit round trip costs virtual time
    expect(r.u64(24)).toBe(BigInt.asUintN(64, -3n));      // another domain: -ESRCH
    expect(r.u64(32)).toBe(BigInt.asUintN(64, -22n));     // enable = 7: -EINVAL
    expect(r.log).toEqual(['d1v0 hypercall page installed at gfn 0x300',
      'd1v0 VMI trigger on: RDTSC exiting set', 'd1v0 VMI trigger off: RDTSC exiting cleared']);
  });

  it('the timer: HLT skips virtual time to the next tick, which is injected through the guest\'s IDT', () => {
    const r = runAsm(tickLoop(5, 'mov eax, ebx\nmov dx, 0x501\nout dx, eax'), { timerPeriod: 100_000n });
    expect(r.s.exit.status).toBe(5);
    expect(r.s.exits.by_reason.HLT).toBe(5);
    expect(r.s.timer.ticks_injected).toBe(5);
    expect(r.s.vcycles).toBeGreaterThanOrEqual(500_000);
    expect(r.s.vcycles).toBeLessThan(510_000);
    expect(r.s.halted_cycles).toBeGreaterThan(480_000);
  });

  it('a tick that comes while interrupts are off waits for the interrupt window', () => {
    const r = runAsm(`
      lea rax, [rip + handler]
      lea rdi, [rip + idt]
      mov word ptr [rdi + 0x200], ax
      mov word ptr [rdi + 0x202], 0x08
      mov word ptr [rdi + 0x204], 0x8e00
      shr rax, 16
      mov word ptr [rdi + 0x206], ax
      lea rax, [rip + idtr]
      mov qword ptr [rax + 2], rdi
      lidt [rax]
      xor ebx, ebx
      mov ecx, 100000
    2: dec ecx
      jnz 2b
      sti
      nop
      nop
      cli
      mov eax, ebx
      mov dx, 0x501
      out dx, eax
    handler:
      inc ebx
      iretq
      .balign 16
    idtr: .word 0x2ff
      .quad 0
      .balign 16
    idt: .skip 0x300`, { timerPeriod: 50_000n });
    expect(r.s.exit.status).toBe(1);                          // one tick, delivered after STI's shadow
    expect(r.s.exits.by_reason.INTERRUPT_WINDOW).toBe(1);
    expect(r.s.timer.ticks_missed).toBeGreaterThan(0);        // the others were dropped, not queued
  });

  it('MSRs: VMCS-held and CPU-held MSRs are emulated; an unknown MSR raises #GP in the guest', () => {
    const r = runAsm(`
      mov ecx, 0xc0000080
      rdmsr
      or eax, 0x801
      wrmsr
      rdmsr
      mov [${OUT}], eax
      mov ecx, 0xc0000082
      mov eax, 0x12345678
      mov edx, 0xffffffff
      wrmsr
      rdmsr
      mov [${OUT + 8}], eax
      mov [${OUT + 12}], edx
      mov ecx, 0x10
      rdmsr
      mov [${OUT + 16}], eax
      mov ecx, 0x123
      rdmsr
      hlt`);
    expect(r.u32(0)).toBe(0xd01);                              // EFER: SCE | LME | LMA | NXE
    expect(r.u64(8)).toBe(0xffffffff12345678n);
    expect(r.u32(16)).toBeGreaterThan(0);                      // IA32_TSC
    expect(r.log[0]).toBe('d1v0 RDMSR 0x00000123 unimplemented');
    expect(r.s.exit.kind).toBe('crash');                       // #GP with no IDT: triple fault
    expect(r.log[1]).toMatch(/Triple fault/);
  });

  it('MSRs Xen answers from its guest policy (xen/arch/x86/msr.c guest_rdmsr/guest_wrmsr): microcode revision, feature control, platform info, CPUID faulting', () => {
    const r = runAsm(`
      mov ecx, 0x8b
      xor eax, eax
      xor edx, edx
      wrmsr
      rdmsr
      mov [${OUT}], eax
      mov [${OUT + 4}], edx
      mov ecx, 0x3a
      rdmsr
      mov [${OUT + 8}], eax
      mov ecx, 0xce
      rdmsr
      mov [${OUT + 12}], eax
      mov ecx, 0x140
      mov eax, 1
      xor edx, edx
      wrmsr
      rdmsr
      mov [${OUT + 16}], eax
      mov eax, 2
      wrmsr
      hlt`);
    expect(r.u64(0)).toBe(0n);                                 // IA32_UCODE_REV: the write of 0 is allowed, no revision
    expect(r.u32(8)).toBe(1);                                  // IA32_FEATURE_CONTROL: locked, VMX off
    expect(r.u32(12)).toBe(0x80000000);                        // PLATFORM_INFO: CPUID faulting available
    expect(r.u32(16)).toBe(1);                                 // MISC_FEATURES_ENABLES: faulting on
    expect(r.log[0]).toMatch(/WRMSR 0x00000140 val 0x2 refused/);   // reserved bit: #GP
    expect(r.s.exit.kind).toBe('crash');
  });

  it('CR4: the host-owned bits exit; MCE is the guest\'s to set, VMXE is refused with #GP', () => {
    const r = runAsm(`
      mov rax, cr4
      mov [${OUT}], eax
      or rax, 0x40
      mov cr4, rax
      mov rax, cr4
      mov [${OUT + 4}], eax
      or rax, 0x2000
      mov cr4, rax
      hlt`);
    expect(r.u32(0)).toBe(0x20);                               // the guest sees PAE only (VMXE is hidden)
    expect(r.u32(4)).toBe(0x60);                               // MCE accepted
    expect(r.s.exits.by_reason.CR_ACCESS).toBe(2);
    expect(r.s.exit.kind).toBe('crash');                       // #GP without an IDT
    expect(r.log[0]).toMatch(/Triple fault/);
  });

  it('I/O: the 16550 reports an empty transmitter, unclaimed ports float high, port 0x80 does not exit', () => {
    const r = runAsm(`
      mov dx, 0x1234
      in al, dx
      mov [${OUT}], al
      mov dx, 0x3fd
      in al, dx
      mov [${OUT + 1}], al
      mov eax, 0x11223344
      mov dx, 0x1234
      in ax, dx
      mov [${OUT + 4}], eax
      out 0x80, al
      mov eax, 0x107
      mov dx, 0x501
      out dx, eax`);
    expect(r.s.exit.status).toBe(7);                           // the low 8 bits of the value written
    expect(r.d.readGuestPhys(OUT, 2)).toEqual(new Uint8Array([0xff, 0x60]));
    expect(r.u32(4)).toBe(0x1122ffff);                         // IN AX merges into RAX
    expect(r.s.exits.by_reason.IO_INSTRUCTION).toBe(4);
    expect(r.d.io.unclaimed).toBe(2);
  });
});
