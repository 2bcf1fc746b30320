// MMIO: an EPT violation on guest-physical memory with no RAM behind it, or in a registered
// handler's range, is emulated (Xen's hvm_hap_nested_page_fault -> handle_mmio_with_translation
// -> hvm_emulate_one; accesses through hvmemul_do_mmio to the handler or to null_handler), and
// the guest goes on at its next instruction. Guests are assembled with GNU as and booted with
// 3 MiB of RAM: the loader's 2 MiB pages map linear = physical up to 4 MiB, so guest-physical
// [0x300000, 0x400000) is mapped by the guest's page tables but has no RAM.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage, type RunSummary, type RunOptions } from '../src/run.js';
import type { Domain } from '../src/xen/domain.js';
import type { MmioDevice, MmioSize } from '../src/xen/devices/mmio.js';
import { EPT_R } from '../src/xen/ept.js';
import { PDPT_GPA } from '../src/xen/boot.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

const dir = mkdtempSync(join(tmpdir(), 'vmvmi-mmio-'));
let seq = 0;
const OUT = 0x200000;   // RAM: where the guests store results
const HOLE = 0x300000;  // the first guest-physical byte without RAM
const DEV = 0x380000;   // the test device's registers (two pages)
const EXIT0 = 'xor eax, eax\nmov dx, 0x501\nout dx, eax\n';

/** A device with a byte array behind its range (reset to the low byte of each address) that logs every access. */
class TestDevice implements MmioDevice {
  readonly log: string[] = [];
  private readonly regs: Uint8Array;
  constructor(readonly name: string, readonly range: { base: number; size: number }) {
    this.regs = new Uint8Array(range.size).map((_, i) => (range.base + i) & 0xff);
  }
  read(gpa: number, size: MmioSize): bigint {
    let v = 0n;
    for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.regs[gpa - this.range.base + i] ?? 0xff);
    this.log.push(`r ${gpa.toString(16)} ${size} ${v.toString(16)}`);
    return v;
  }
  write(gpa: number, size: MmioSize, value: bigint): void {
    this.log.push(`w ${gpa.toString(16)} ${size} ${value.toString(16)}`);
    for (let i = 0; i < size; i++) {
      const o = gpa - this.range.base + i;
      if (o < this.regs.length) this.regs[o] = Number((value >> BigInt(8 * i)) & 0xffn);
    }
  }
}

interface MmioRun { s: RunSummary; d: Domain; log: string[]; u64(off: number): bigint }

function runAsm(src: string, opts: Partial<RunOptions> & { devices?: MmioDevice[] } = {}): MmioRun {
  const file = join(dir, `g${seq++}.elf`);
  writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
  let d: Domain | undefined;
  const log: string[] = [];
  const { devices, beforeRun, ...rest } = opts;
  const s = runImage({ image: file, systemMap: false, memMiB: 3, maxInsns: 1_000_000n, onLog: (l) => log.push(l), ...rest,
    beforeRun: (dom, layout) => { d = dom; for (const dev of devices ?? []) dom.mmio.registerMmioHandler(dev); beforeRun?.(dom, layout); } });
  return { s, d: d!, log, u64: (off) => new DataView(d!.readGuestPhys(OUT + off, 8)!.buffer).getBigUint64(0, true) };
}

// An IDT at 0x210000 with gates for #GP and #PF: each handler stores the error code, CR2, RSI,
// RDI and the faulting RIP at OUT+0x40.., then exits with status 0.
const IDT = 0x210000;
const gate = (vec: number, label: string) => `
  lea rax, [rip + ${label}]
  mov word ptr [${IDT + vec * 16}], ax
  mov word ptr [${IDT + vec * 16 + 2}], 0x08
  mov word ptr [${IDT + vec * 16 + 4}], 0x8e00
  shr rax, 16
  mov word ptr [${IDT + vec * 16 + 6}], ax
  mov dword ptr [${IDT + vec * 16 + 8}], 0`;
const WITH_IDT = `
  ${gate(13, 'fault')}
  ${gate(14, 'fault')}
  lidt [rip + idtr]
  jmp body
idtr: .word 0xfff
  .quad ${IDT}
fault:
  pop rax
  mov [${OUT + 0x40}], rax
  mov rax, cr2
  mov [${OUT + 0x48}], rax
  mov [${OUT + 0x50}], rsi
  mov [${OUT + 0x58}], rdi
  pop rax
  mov [${OUT + 0x60}], rax
  ${EXIT0}
body:`;

describe.skipIf(!haveAssembler())('MMIO emulation (hvm_hap_nested_page_fault -> handle_mmio_with_translation)', () => {
  it('null_handler: reads without RAM give all ones at 1, 2, 4 and 8 bytes; writes are dropped; the guest goes on', () => {
    const r = runAsm(`
      mov rax, 0x1122334455667788
      mov rbx, rax
      mov rcx, rax
      mov rdx, rax
      mov al, [${HOLE + 0x100}]
      mov bx, [${HOLE + 0x100}]
      mov ecx, [${HOLE + 0x100}]
      mov rdx, [${HOLE + 0x100}]
      mov [${OUT}], rax
      mov [${OUT + 8}], rbx
      mov [${OUT + 16}], rcx
      mov [${OUT + 24}], rdx
      mov dword ptr [${HOLE + 0x100}], 0x12345678
      mov esi, [${HOLE + 0x100}]
      mov [${OUT + 32}], rsi
      ${EXIT0}`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.u64(0)).toBe(0x11223344556677ffn);
    expect(r.u64(8)).toBe(0x112233445566ffffn);
    expect(r.u64(16)).toBe(0xffffffffn);              // a 32-bit load zero-extends
    expect(r.u64(24)).toBe(0xffffffffffffffffn);
    expect(r.u64(32)).toBe(0xffffffffn);              // the write went nowhere
    expect(r.s.exits.by_reason.EPT_VIOLATION).toBe(6);
    expect(r.d.mmio.unclaimed).toBe(6);
    expect(r.log.filter((l) => /EPT violation|crash/.test(l))).toEqual([]);
  });

  it('register_mmio_handler: the device sees (gpa, size, value) of each access in order, read-modify-writes included', () => {
    const dev = new TestDevice('test device', { base: DEV, size: 0x2000 });
    const r = runAsm(`
      mov eax, [${DEV}]
      mov ebx, 0xdeadbeef
      mov [${DEV + 4}], ebx
      mov ecx, 0x10
      add [${DEV + 8}], ecx
      mov rdx, 0x0102030405060708
      xchg [${DEV + 16}], rdx
      movzx esi, word ptr [${DEV + 2}]
      mov byte ptr [${DEV + 1}], 0x5a
      inc qword ptr [${DEV + 24}]
      cmp dword ptr [${DEV + 4}], 0
      mov [${OUT}], rax
      mov [${OUT + 8}], rdx
      mov [${OUT + 16}], rsi
      ${EXIT0}`, { devices: [dev] });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(dev.log).toEqual([
      'r 380000 4 3020100',
      'w 380004 4 deadbeef',
      'r 380008 4 b0a0908', 'w 380008 4 b0a0918',
      'r 380010 8 1716151413121110', 'w 380010 8 102030405060708',
      'r 380002 2 302',
      'w 380001 1 5a',
      'r 380018 8 1f1e1d1c1b1a1918', 'w 380018 8 1f1e1d1c1b1a1919',
      'r 380004 4 deadbeef',
    ]);
    expect(r.u64(0)).toBe(0x03020100n);
    expect(r.u64(8)).toBe(0x1716151413121110n);
    expect(r.u64(16)).toBe(0x0302n);
    expect(r.s.exits.by_reason.EPT_VIOLATION).toBe(8);
    expect(r.d.mmio.unclaimed).toBe(0);
  });

  it('page-crossing accesses: RAM and MMIO parts, each MMIO part split as hvmemul_phys_mmio_access splits it', () => {
    const low = new TestDevice('low', { base: HOLE, size: 0x1000 });
    const dev = new TestDevice('test device', { base: DEV, size: 0x2000 });
    const r = runAsm(`
      mov dword ptr [${HOLE - 4}], 0xaabbccdd
      mov rax, [${HOLE - 3}]
      mov rbx, 0x8877665544332211
      mov [${HOLE - 2}], rbx
      mov ecx, [${DEV + 0xffe}]
      mov rdx, [${DEV + 0xffb}]
      mov [${OUT}], rax
      mov [${OUT + 8}], rcx
      mov [${OUT + 16}], rdx
      mov eax, [${HOLE - 4}]
      mov [${OUT + 24}], rax
      ${EXIT0}`, { devices: [low, dev] });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    // 3 bytes from RAM (cc bb aa), 5 from the device: 4 + 1.
    expect(low.log).toEqual(['r 300000 4 3020100', 'r 300004 1 4', 'w 300000 4 66554433', 'w 300004 2 8877']);
    expect(r.u64(0)).toBe(0x0403020100aabbccn);
    expect(r.u64(24)).toBe(0x2211ccddn);              // the write's RAM part landed
    expect(dev.log).toEqual(['r 380ffe 2 fffe', 'r 381000 2 100', 'r 380ffb 4 fefdfcfb', 'r 380fff 1 ff', 'r 381000 2 100', 'r 381002 1 2']);
    expect(r.u64(8)).toBe(0x0100fffen);
    expect(r.u64(16)).toBe(0x020100fffefdfcfbn);
  });

  it('REP STOS / MOVS to and from MMIO: every iteration exact, the whole string in one emulation (hvmemul_rep_movs)', () => {
    const dev = new TestDevice('test device', { base: DEV, size: 0x2000 });
    const r = runAsm(`
      cld
      mov rdi, ${DEV + 0x100}
      mov ecx, 3
      mov eax, 0x11223344
      rep stosd
      mov rsi, ${DEV + 0x200}
      mov rdi, ${OUT + 0x100}
      mov ecx, 4
      rep movsb
      mov rsi, ${OUT + 0x100}
      mov rdi, ${DEV + 0x300}
      mov ecx, 2
      rep movsw
      mov [${OUT}], rcx
      mov [${OUT + 8}], rdi
      ${EXIT0}`, { devices: [dev] });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(dev.log).toEqual([
      'w 380100 4 11223344', 'w 380104 4 11223344', 'w 380108 4 11223344',
      'r 380200 1 0', 'r 380201 1 1', 'r 380202 1 2', 'r 380203 1 3',
      'w 380300 2 100', 'w 380302 2 302',
    ]);
    expect(r.u64(0x100) & 0xffffffffn).toBe(0x03020100n);
    expect(r.u64(0)).toBe(0n);
    expect(r.u64(8)).toBe(BigInt(DEV + 0x304));
    expect(r.s.exits.by_reason.EPT_VIOLATION).toBe(3);
  });

  it('under an altp2m view (after VMFUNC): the view has no RAM there either, so the access is MMIO', () => {
    const dev = new TestDevice('test device', { base: DEV, size: 0x2000 });
    const r = runAsm(`
      xor eax, eax
      mov ecx, 1
      vmfunc
      mov rax, [${HOLE}]
      mov [${OUT}], rax
      mov dword ptr [${DEV}], 7
      ${EXIT0}`, { devices: [dev], vmi: {}, domain: { ve: false } });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.u64(0)).toBe(0xffffffffffffffffn);
    expect(dev.log).toEqual(['w 380000 4 7']);
    expect(r.d.machine.vmread('EPTP_INDEX')).toBe(1n);
  });

  it('hvm_mmio_internal first: a handler\'s range over RAM is MMIO where the view refuses access, RAM where it allows it', () => {
    const page = OUT + 0x1000;
    const dev = new TestDevice('over RAM', { base: page, size: 0x1000 });
    const r = runAsm(`
      mov dword ptr [${page}], 0x600d
      xor eax, eax
      mov ecx, 1
      vmfunc
      mov eax, [${page}]
      mov [${OUT}], rax
      mov dword ptr [${page + 8}], 0x99
      xor eax, eax
      xor ecx, ecx
      vmfunc
      mov eax, [${page}]
      mov [${OUT + 8}], rax
      ${EXIT0}`, { devices: [dev], vmi: {}, domain: { ve: false },
      beforeRun: (d) => d.trigger!.altp2m.view(1)!.setAccess(BigInt(page), 0n) });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(dev.log).toEqual(['r 201000 4 3020100', 'w 201008 4 99']);   // view 1: the handler
    expect(r.u64(0)).toBe(0x03020100n);
    expect(r.u64(8)).toBe(0x600dn);                                     // view 0: the RAM
  });

  it('a violation on RAM a view restricts is not MMIO: the domain crashes with ept_handle_violation\'s message, as before', () => {
    const r = runAsm(`
      xor eax, eax
      mov ecx, 1
      vmfunc
      mov dword ptr [${OUT}], 1
      ${EXIT0}`, { vmi: {}, domain: { ve: false }, beforeRun: (d) => d.trigger!.altp2m.view(1)!.setAccess(BigInt(OUT), EPT_R) });
    expect(r.s.exit).toMatchObject({ kind: 'crash', status: 125 });
    expect(r.log[0]).toMatch(/^d1v0 EPT violation 0x18a \(-w-\/r--\) gpa 0x200000 mfn 0x400 --- GLA 0x200000 at RIP 0x10000a$/);
  });

  it('an exception during the emulated instruction is injected (hvm_inject_event): MOVS from MMIO to an unmapped page is #PF', () => {
    const dev = new TestDevice('test device', { base: DEV, size: 0x2000 });
    const r = runAsm(`${WITH_IDT}
      mov rsi, ${DEV}
      mov rdi, 0x40000000
      movsd`, { devices: [dev] });
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(dev.log).toEqual(['r 380000 4 3020100']);   // the read was made; nothing after the fault
    expect(r.u64(0x40)).toBe(2n);                       // #PF error code: write, not present, supervisor
    expect(r.u64(0x48)).toBe(0x40000000n);              // CR2
    expect([r.u64(0x50), r.u64(0x58)]).toEqual([BigInt(DEV), 0x40000000n]);   // RSI/RDI as before the instruction
  });

  it('an instruction fetched from MMIO cannot be emulated: Xen injects #GP(0)', () => {
    const r = runAsm(`${WITH_IDT}
      mov rax, ${HOLE + 0x100}
      jmp rax`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.u64(0x40)).toBe(0n);
    expect(r.u64(0x60)).toBe(BigInt(HOLE + 0x100));     // the #GP's RIP
    expect(r.log).toContain('d1v0 MMIO emulation failed: instruction fetch at gpa 0x300100, RIP 0x300100');
  });

  it('guest page tables in MMIO cannot be walked by the emulation either: #GP(0)', () => {
    const r = runAsm(`${WITH_IDT}
      mov qword ptr [${PDPT_GPA + 8}], ${HOLE | 3}
      mov eax, [0x40000000]`);
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    expect(r.u64(0x40)).toBe(0n);
    expect(r.log.some((l) => /^d1v0 MMIO emulation failed: page walk at gpa 0x300000, RIP 0x1[0-9a-f]+$/.test(l))).toBe(true);
  });

  it('TF set before the emulated instruction: #DB queued for after it, as x86_emulate\'s singlestep', () => {
    let queued: bigint | undefined;
    const r = runAsm(`mov eax, [${HOLE}]\n${EXIT0}`, {
      beforeRun: (d) => {
        const m = d.machine, v = d.vcpus[0];
        m.vmwrite('GUEST_RFLAGS', m.vmread('GUEST_RFLAGS') | 0x100n);
        d.sched.prepareEntry(v);
        const reason = m.vmresume(1000);
        v.recordExit(reason);
        v.handleExit(reason);
        queued = m.vmread('VM_ENTRY_INTR_INFO_FIELD');
        // Our CPU (vmx.ts deliver) applies the exception bitmap, which has #DB, to injected events too, against
        // SDM 26.5.1.2 (an injected event never exits directly): drop the #DB so the run ends.
        m.vmwrite('VM_ENTRY_INTR_INFO_FIELD', 0);
        m.vmwrite('GUEST_RFLAGS', m.vmread('GUEST_RFLAGS') & ~0x100n);
      },
    });
    expect(queued).toBe(0x80000301n);   // valid, hardware exception, vector 1
    expect(r.s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
  });

  it('an access running past the end of a handler\'s range crashes the domain, as hvm_mmio_accept does', () => {
    const dev = new TestDevice('test device', { base: DEV, size: 0x10 });
    const r = runAsm(`mov rax, [${DEV + 0xc}]\n${EXIT0}`, { devices: [dev] });
    expect(r.s.exit).toMatchObject({ kind: 'crash', status: 125 });
    expect(r.log[0]).toBe('d1v0 MMIO access 0x38000c+8 runs past the end of test device\'s range');
  });

  it('the exit-information fields keep the EPT violation; RIP moves past the instruction', () => {
    let seen: Record<string, bigint> | undefined;
    runAsm(`mov eax, [${HOLE + 0x10}]\n${EXIT0}`, {
      beforeRun: (d) => {
        const m = d.machine, v = d.vcpus[0];
        d.sched.prepareEntry(v);
        const reason = m.vmresume(1000);
        const before = ['VM_EXIT_REASON', 'EXIT_QUALIFICATION', 'GUEST_PHYSICAL_ADDRESS', 'GUEST_LINEAR_ADDRESS', 'VM_EXIT_INSTRUCTION_LEN']
          .map((f) => [f, m.vmread(f)] as const);
        const rip = m.vmread('GUEST_RIP');
        v.recordExit(reason);
        v.handleExit(reason);
        seen = Object.fromEntries(before.map(([f, x]) => [f, m.vmread(f) - x]));
        seen.reason = BigInt(reason);
        seen.rip = m.vmread('GUEST_RIP') - rip;
        seen.rax = m.gpr('rax');
      },
    });
    expect(seen).toEqual({ reason: 48n, VM_EXIT_REASON: 0n, EXIT_QUALIFICATION: 0n, GUEST_PHYSICAL_ADDRESS: 0n,
      GUEST_LINEAR_ADDRESS: 0n, VM_EXIT_INSTRUCTION_LEN: 0n, rip: 7n, rax: 0xffffffffn });
  });
});
