// RDPMC (SDM Vol. 2B RDPMC) and INT1/ICEBP (Vol. 2A "INT n/INTO/INT3/INT1") in a TestGuest.
// RDPMC: #GP(0) at CPL > 0 unless CR4.PCE, a privilege fault that comes before the RDPMC-exiting VM
// exit (Vol. 3C 26.1.1, 26.1.3); past both, the counter must exist -- this CPU reports no performance
// monitoring (CPUID.0AH all zero), so every ECX is #GP(0).
// INT1: #DB as a privileged software exception: VMX interruption type 5 with the instruction length
// when it VM-exits through the exception bitmap (Vol. 3C 25.8.3, 28.2.2, 28.2.5), a trap (the frame's
// RIP is the next instruction), no gate-DPL check (unlike INT 1), EXT = 1 in the error code of a fault
// while delivering it (Vol. 3A 6.13; INT3's is 0).
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE, UCODE, IDT } from './helpers/guest.js';
import { runCases, nativeSkip } from './diff/diffcase.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage } from '../src/run.js';
import { asm } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';
import { haveAssembler } from './helpers/asm.js';
import { nativeCpuid } from '../src/cpuid.js';
import * as R from '../assembly/shared/exit-reasons.js';

const HLT = R.EXIT_REASON_HLT;
const RDPMC_EXITING = 1 << 11, HLT_EXITING = 1 << 7;

describe.skipIf(!haveAssembler())('RDPMC (SDM Vol. 2B RDPMC)', () => {
  it('CPUID reports no architectural performance monitoring (leaf 0AH) and no PDCM', () => {
    expect(nativeCpuid(0xa, 0)).toEqual({ eax: 0, ebx: 0, ecx: 0, edx: 0 });
    expect(nativeCpuid(1, 0).ecx & (1 << 15)).toBe(0);
  });

  it('CPL 3 without CR4.PCE: #GP(0), even with RDPMC exiting (the privilege fault wins)', () => {
    for (const ctl of [HLT_EXITING, HLT_EXITING | RDPMC_EXITING]) {
      const g = new TestGuest();
      g.userState(); g.user('xor ecx, ecx\nrdpmc');
      g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', ctl);
      expect(g.run()).toBe(HLT);
      expect(g.record()).toMatchObject({ vector: 13, error: 0n, count: 1 });
    }
  });

  it('RDPMC exiting: exit 15 with the instruction length, at CPL 0 or at CPL 3 with CR4.PCE', () => {
    const k = new TestGuest();
    k.kernel('mov ecx, 0x40000000\nrdpmc');
    k.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', HLT_EXITING | RDPMC_EXITING);
    expect(k.run()).toBe(R.EXIT_REASON_RDPMC);
    expect([k.rip, k.m.vmread('VM_EXIT_INSTRUCTION_LEN')]).toEqual([BigInt(KCODE + 5), 2n]);
    const u = new TestGuest();
    u.userState(); u.user('xor ecx, ecx\nrdpmc');
    u.m.vmwrite('GUEST_CR4', u.m.vmread('GUEST_CR4') | 0x100n);
    u.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', HLT_EXITING | RDPMC_EXITING);
    expect(u.run()).toBe(R.EXIT_REASON_RDPMC);
    expect(u.rip).toBe(BigInt(UCODE + 2));
  });

  it('no counters: general-purpose (0, 1, 7), fixed (1 << 30) and fast-read (1 << 31) indices are all #GP(0), RDX:RAX untouched', () => {
    for (const ecx of [0, 1, 7, 0x40000000, 0x80000000, 0xc0000001]) {
      const g = new TestGuest();
      g.kernel(`mov ecx, ${ecx}\nmov rbx, 5\nmov rdx, 6\nrdpmc`);
      expect(g.run()).toBe(HLT);
      expect(g.record()).toMatchObject({ vector: 13, error: 0n, count: 1 });
      expect([g.m.gpr('rbx'), g.m.gpr('rdx')]).toEqual([5n, 6n]);
    }
    const u = new TestGuest(); // CR4.PCE at CPL 3: the same
    u.userState(); u.user('xor ecx, ecx\nrdpmc');
    u.m.vmwrite('GUEST_CR4', u.m.vmread('GUEST_CR4') | 0x100n);
    expect(u.run()).toBe(HLT);
    expect(u.record()).toMatchObject({ vector: 13, error: 0n });
  });
});

describe.skipIf(!haveAssembler())('INT1 / ICEBP (F1) (SDM Vol. 2A INT n/INTO/INT3/INT1)', () => {
  it('delivers #DB through the IDT as a trap: the frame holds the next RIP; no error code', () => {
    const g = new TestGuest();
    g.kernel('nop\n.byte 0xf1\nnop');
    expect(g.run()).toBe(HLT);
    expect(g.record()).toMatchObject({ vector: 1, error: 0n, count: 1 });
    // The stub popped its own 0 "error code" slot: RSP points at the frame's RIP.
    expect(g.m.read64(Number(g.m.vmread('GUEST_RSP')))).toBe(BigInt(KCODE + 2));
  });

  it('ignores the gate DPL from CPL 3 (INT 1 through the same DPL-0 gate is #GP(1 << 3 | 2))', () => {
    const g = new TestGuest();
    g.userState(); g.user('.byte 0xf1');
    expect(g.run()).toBe(HLT);
    expect(g.record()).toMatchObject({ vector: 1, count: 1 });
    const h = new TestGuest();
    h.userState(); h.user('int 1');
    expect(h.run()).toBe(HLT);
    expect(h.record()).toMatchObject({ vector: 13, error: 0xan });
  });

  it('VM-exits through exception-bitmap bit 1 as interruption type 5 with the instruction length; RIP at the INT1', () => {
    const g = new TestGuest();
    g.kernel('nop\n.byte 0xf1\nhlt');
    g.m.vmwrite('EXCEPTION_BITMAP', 1 << 1);
    expect(g.run()).toBe(R.EXIT_REASON_EXCEPTION_NMI);
    expect(g.m.vmread('VM_EXIT_INTR_INFO')).toBe(0x80000501n);
    expect(g.m.vmread('VM_EXIT_INSTRUCTION_LEN')).toBe(1n);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0n);
    expect(g.rip).toBe(BigInt(KCODE + 1));
  });

  it('a fault while delivering it carries EXT = 1 (INT3\'s carries EXT = 0): gate not present, #NP(vector << 3 | 2 | EXT)', () => {
    const np = (code: string, vec: number) => {
      const g = new TestGuest();
      g.m.write64(IDT + vec * 16, g.m.read64(IDT + vec * 16) & ~(1n << 47n));
      g.kernel(code);
      expect(g.run()).toBe(HLT);
      return g.record();
    };
    expect(np('.byte 0xf1', 1)).toMatchObject({ vector: 11, error: (1n << 3n) | 3n });
    expect(np('int3', 3)).toMatchObject({ vector: 11, error: (3n << 3n) | 2n });
  });
});

// At CPL 3 both can run on the host (Linux leaves CR4.PCE clear for a task without a perf mmap).
// SYSENTER/SYSEXIT cannot: AMD processors make them #UD in long mode, and the SDM's Intel behaviour
// is what sysenter.test.ts checks.
describe.skipIf(nativeSkip)('RDPMC and INT1 at CPL 3 against the host (exec environment)', () => {
  it('RDPMC without CR4.PCE is #GP(0) for any ECX; INT1 is a #DB trap (RIP after it), registers and flags kept', () => {
    const cs = [0, 1, 0x40000000].map((ecx) => ({ code: '0f33', regs: { rcx: ecx, rax: 5, rdx: 6 }, rflags: 0x8d5 }));
    cs.push({ code: 'f1', regs: { rcx: 1, rax: 5, rdx: 6 }, rflags: 0x8d5 }, { code: '90f190', regs: { rcx: 0, rax: 0, rdx: 0 }, rflags: 0 });
    const r = runCases(cs);
    r.forEach((x) => expect(x.diffs, JSON.stringify(x.exec)).toEqual([]));
    expect(r.map((x) => [x.nat.vector, x.nat.rip])).toEqual([
      [13, '0x10000000'], [13, '0x10000000'], [13, '0x10000000'], [1, '0x10000001'], [1, '0x10000002']]);
  });
});

// Under Xen, which intercepts #DB for every HVM guest (HVM_TRAP_MASK), the INT1 exit goes back into the
// guest as Xen's vmx_propagate_intr() sends it (src/xen/vmexit/exception.ts): same type, instruction
// length, so the guest's handler sees the trap once, with RIP after the INT1.
describe('INT1 in a guest under Xen (the #DB intercept re-injects a privileged software exception)', () => {
  it('the guest\'s #DB handler runs once and returns after the INT1', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'vmvmi-int1-')), 'g.elf');
    const src = `
      lea rax, [rip + handler]
      lea rdi, [rip + idt]
      mov word ptr [rdi + 0x10], ax
      mov word ptr [rdi + 0x12], 0x08
      mov word ptr [rdi + 0x14], 0x8e00
      shr rax, 16
      mov word ptr [rdi + 0x16], ax
      lea rax, [rip + idtr]
      mov qword ptr [rax + 2], rdi
      lidt [rax]
      xor ebx, ebx
      .byte 0xf1
    after:
      lea rax, [rip + after]
      cmp rax, r12
      jne 1f
      add ebx, 100
    1: mov eax, ebx
      mov dx, 0x501
      out dx, eax
    handler:
      inc ebx
      mov r12, [rsp]
      iretq
      .balign 16
    idtr: .word 0x1f
      .quad 0
      .balign 16
    idt: .skip 0x20`;
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: asm(src, 0x100000) }]));
    const s = runImage({ image: file, systemMap: false, maxInsns: 1_000_000n, onConsole: () => {}, onLog: () => {} });
    expect(s.exit.kind).not.toBe('crash');
    expect(s.exit.status).toBe(101); // one #DB, whose frame RIP was the instruction after INT1
    expect(s.exits.by_reason.EXCEPTION_NMI).toBe(1);
  });
});
