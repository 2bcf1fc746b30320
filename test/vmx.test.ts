// VMX non-root behaviour of the CPU, each case after the SDM section it cites
// (Intel SDM Vol. 3C ch. 25-28; Vol. 3A ch. 4 and 6 for paging and delivery).
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE, UCODE, UDATA, KSTACK, IST1, REC } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { VmxError } from '../src/machine.js';

import * as R from '../assembly/shared/exit-reasons.js';

const EXIT = { EXCEPTION_NMI: R.EXIT_REASON_EXCEPTION_NMI, EXTERNAL_INTERRUPT: R.EXIT_REASON_EXTERNAL_INTERRUPT,
  TRIPLE_FAULT: R.EXIT_REASON_TRIPLE_FAULT, INTERRUPT_WINDOW: R.EXIT_REASON_PENDING_VIRT_INTR, CPUID: R.EXIT_REASON_CPUID,
  HLT: R.EXIT_REASON_HLT, RDTSC: R.EXIT_REASON_RDTSC, VMCALL: R.EXIT_REASON_VMCALL, CR_ACCESS: R.EXIT_REASON_CR_ACCESS,
  IO: R.EXIT_REASON_IO_INSTRUCTION, MSR_READ: R.EXIT_REASON_MSR_READ, MSR_WRITE: R.EXIT_REASON_MSR_WRITE,
  RDTSCP: R.EXIT_REASON_RDTSCP, PREEMPTION_TIMER: R.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED };

describe.skipIf(!haveAssembler())('VMX non-root operation', () => {
  it('VMREAD/VMWRITE use the SDM encodings and reject unsupported or read-only fields (SDM 25.11.2, 31.4)', () => {
    const g = new TestGuest();
    g.m.vmwrite(0x2010, 0x1234n); // TSC_OFFSET by encoding
    expect(g.m.vmread('TSC_OFFSET')).toBe(0x1234n);
    expect(g.m.vmread(0x2011)).toBe(0n); // high access of a 64-bit field
    g.m.vmwrite(0x2011, 0xabn);
    expect(g.m.vmread('TSC_OFFSET')).toBe(0xab00001234n);
    g.m.vmwrite('GUEST_ES_SELECTOR', 0x12345n); // 16-bit field truncates
    expect(g.m.vmread('GUEST_ES_SELECTOR')).toBe(0x2345n);
    expect(() => g.m.vmwrite(0x7fff, 0)).toThrow(VmxError);
    expect(() => g.m.vmwrite('VM_EXIT_REASON', 1)).toThrow(/read-only/);
  });

  it('CPUID and VMCALL exit unconditionally with the instruction length (SDM 26.1.2)', () => {
    const g = new TestGuest();
    g.kernel('cpuid\nvmcall\nhlt');
    expect(g.run()).toBe(EXIT.CPUID);
    expect(g.rip).toBe(BigInt(KCODE));
    expect(g.m.vmread('VM_EXIT_INSTRUCTION_LEN')).toBe(2n);
    g.m.vmwrite('GUEST_RIP', g.rip + 2n);
    expect(g.run()).toBe(EXIT.VMCALL);
    expect(g.m.vmread('VM_EXIT_INSTRUCTION_LEN')).toBe(3n);
  });

  it('HLT exits only with HLT exiting; at CPL 3 HLT is #GP, which wins over the exit (SDM 26.1.1)', () => {
    const g = new TestGuest();
    g.kernel('hlt');
    expect(g.run()).toBe(EXIT.HLT);
    g.userState(); g.user('hlt');
    expect(g.run()).toBe(EXIT.HLT); // the #GP handler stub HLTs in the kernel
    expect(g.record()).toMatchObject({ vector: 13, error: 0n, count: 1 });
  });

  it('RDTSC: exit 16 with RDTSC exiting, else the virtual TSC plus TSC_OFFSET (SDM 25.6.5, 26.1.3)', () => {
    const g = new TestGuest();
    g.kernel('rdtsc\nmov rbx, rax\nrdtsc\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 3));
    g.m.vmwrite('TSC_OFFSET', 1_000_000n);
    expect(g.run()).toBe(EXIT.HLT);
    const first = g.m.gpr('rbx'), second = g.m.gpr('rax');
    expect(first).toBeGreaterThanOrEqual(1_000_000n);
    expect(second).toBeGreaterThan(first); // virtual time advances with retired instructions
    g.kernelState(); g.kernel('rdtsc\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 12));
    expect(g.run()).toBe(EXIT.RDTSC);
    expect(g.rip).toBe(BigInt(KCODE));
  });

  it('RDTSCP: #UD unless enable-RDTSCP; exit 51 with RDTSC exiting; ECX = TSC_AUX otherwise (SDM 25.6.2)', () => {
    const g = new TestGuest();
    g.kernel('rdtscp\nhlt');
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.record().vector).toBe(6);
    g.kernelState(); g.kernel('rdtscp\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 12) | 0x80000000);
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', 1 << 3);
    expect(g.run()).toBe(EXIT.RDTSCP);
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000);
    g.m.wrmsr(0xc0000103, 7n);
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.m.gpr('rcx')).toBe(7n);
  });

  it('I/O exits carry size, direction, operand encoding and port in the qualification (SDM Table 28-5)', () => {
    const g = new TestGuest();
    g.kernel('mov dx, 0x3f8\nout dx, al\nin eax, 0x71\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 24));
    expect(g.run()).toBe(EXIT.IO);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x3f8n << 16n); // 1 byte, OUT, DX
    g.m.vmwrite('GUEST_RIP', g.rip + g.m.vmread('VM_EXIT_INSTRUCTION_LEN'));
    expect(g.run()).toBe(EXIT.IO);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe((0x71n << 16n) | 64n | 8n | 3n); // 4 bytes, IN, immediate
  });

  it('I/O bitmaps: only ports whose bit is set exit (SDM 25.6.4)', () => {
    const g = new TestGuest();
    g.kernel('mov dx, 0x80\nout dx, al\nmov dx, 0x3f8\nout dx, al\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 25));
    g.m.vmwrite('IO_BITMAP_A', 0x40000); g.m.vmwrite('IO_BITMAP_B', 0x41000);
    g.m.fillPhys(0x40000, 0x2000, 0);
    g.m.writePhys(0x40000 + (0x3f8 >> 3), new Uint8Array([1 << (0x3f8 & 7)]));
    expect(g.run()).toBe(EXIT.IO);
    expect(g.m.vmread('EXIT_QUALIFICATION') >> 16n).toBe(0x3f8n);
  });

  it('RDMSR/WRMSR exit without MSR bitmaps, and per bitmap bit with them; #GP at CPL 3 wins (SDM 25.6.9)', () => {
    const g = new TestGuest();
    g.kernel('mov ecx, 0xc0000082\nrdmsr\nwrmsr\nhlt');
    expect(g.run()).toBe(EXIT.MSR_READ);
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 28));
    g.m.vmwrite('MSR_BITMAP', 0x40000);
    g.m.fillPhys(0x40000, 0x1000, 0);
    g.m.writePhys(0x40000 + 3072 + (0x82 >> 3), new Uint8Array([1 << (0x82 & 7)])); // write bitmap, high MSRs
    g.m.wrmsr(0xc0000082, 0xffffffff81000000n);
    expect(g.run()).toBe(EXIT.MSR_WRITE);
    expect(g.m.gpr('rax')).toBe(0x81000000n);
    expect(g.m.gpr('rdx')).toBe(0xffffffffn);
    g.userState(); g.user('rdmsr');
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.record().vector).toBe(13);
  });

  it('exception bitmap: #PF exits with the linear address as qualification and CR2 untouched (SDM 27.1, 28.2.1)', () => {
    const g = new TestGuest();
    g.kernel('mov rax, 0x7ff000000000\nmov rbx, [rax]\nhlt');
    g.m.vmwrite('EXCEPTION_BITMAP', 1 << 14);
    g.m.cr2 = 0x5555n;
    expect(g.run()).toBe(EXIT.EXCEPTION_NMI);
    expect(g.m.vmread('VM_EXIT_INTR_INFO')).toBe(0x80000b0en); // valid, error code, hardware exception, vector 14
    expect(g.m.vmread('VM_EXIT_INTR_ERROR_CODE')).toBe(0n);    // not present, read, supervisor
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x7ff000000000n);
    expect(g.m.cr2).toBe(0x5555n);
    expect(g.rip).toBe(BigInt(KCODE + 10));
  });

  it('#PF error codes follow SDM 4.7: P, W/R, U/S, RSVD, I/D', () => {
    const g = new TestGuest();
    g.userState();
    // user write to a supervisor page; user fetch from NX page; reserved bit set in a PDE
    g.user(`mov rax, 0x1000\nmov qword ptr [rax], 1`);
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.record()).toMatchObject({ vector: 14, error: 7n }); // P | W | U
    expect(g.m.cr2).toBe(0x1000n);
    const g2 = new TestGuest();
    g2.m.write64(0x3000 + 3 * 8, 0x600000n | 0x83n | 4n | (1n << 63n)); // 6-8 MiB user, NX
    g2.m.write64(0x600000, 0xc3n);
    g2.userState(); g2.user('mov rax, 0x600000\ncall rax');
    expect(g2.run()).toBe(EXIT.HLT);
    expect(g2.record()).toMatchObject({ vector: 14, error: 0x15n }); // P | U | I
    const g3 = new TestGuest();
    g3.m.write64(0x3000 + 3 * 8, 0x600000n | 0x83n | 4n | (1n << 51n)); // reserved address bit (MAXPHYADDR 46)
    g3.userState(); g3.user('mov rax, 0x600000\nmov rax, [rax]');
    expect(g3.run()).toBe(EXIT.HLT);
    expect(g3.record()).toMatchObject({ vector: 14, error: 0xdn }); // P | U | RSVD
  });

  it('accessed and dirty flags are set by the page walk (SDM 4.8)', () => {
    const g = new TestGuest();
    g.m.write64(0x3000 + 8, 0x200000n | 0x83n | 4n); // clear A/D of the 2-4 MiB PDE
    g.userState(); g.user('mov rax, [0x300000]\nmov qword ptr [0x300008], rax\nint3');
    g.run();
    const pde = g.m.read64(0x3000 + 8);
    expect(pde & 0x20n).toBe(0x20n);
    expect(pde & 0x40n).toBe(0x40n);
  });

  it('a user INT3 goes through a DPL-3 gate to CPL 0 on the TSS RSP0 stack with an SS:RSP frame (SDM 6.14.2)', () => {
    const g = new TestGuest();
    g.userState(); g.user('nop\nint3');
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.record().vector).toBe(3);
    // The stub popped the pushed 0; the frame below it: RIP, CS, RFLAGS, RSP, SS.
    const sp = Number(g.m.vmread('GUEST_RSP'));
    expect(sp).toBe(KSTACK - 40);
    expect(g.m.read64(sp)).toBe(BigInt(UCODE + 2));
    expect(g.m.read64(sp + 8)).toBe(0x2bn);
    expect(g.m.read64(sp + 24)).toBe(0x380000n);
    expect(g.m.read64(sp + 32)).toBe(0x23n);
    expect(g.m.vmread('GUEST_CS_SELECTOR')).toBe(0x08n);
  });

  it('INT n through a DPL-0 gate from CPL 3 is #GP(vector*8+2) (SDM 6.12.1.1)', () => {
    const g = new TestGuest();
    g.userState(); g.user('int 0x40');
    g.run();
    expect(g.record()).toMatchObject({ vector: 13, error: BigInt(0x40 * 8 + 2) });
  });

  it('IST: a gate with IST 1 switches to the IST stack (SDM 6.14.5)', () => {
    const g = new TestGuest();
    const gate = g.m.read64(0x7000 + 14 * 16);
    g.m.write64(0x7000 + 14 * 16, gate | (1n << 32n));
    g.kernel('mov rax, [0x7ff000000000]');
    g.run();
    expect(g.record().vector).toBe(14);
    expect(Number(g.m.vmread('GUEST_RSP'))).toBe(IST1 - 40);
  });

  it('#PF while delivering #PF becomes #DF; a fault delivering #DF is a triple fault exit (SDM 6.15, 28.2)', () => {
    const g = new TestGuest();
    g.m.write64(0x7000 + 14 * 16, 0n); g.m.write64(0x7000 + 14 * 16 + 8, 0n); // #PF gate not present -> #NP, contributory
    g.kernel('mov rax, [0x7ff000000000]');
    g.run();
    expect(g.record()).toMatchObject({ vector: 8, error: 0n });
    const g2 = new TestGuest();
    g2.m.vmwrite('GUEST_IDTR_LIMIT', 0); // every gate beyond the limit: #GP -> #DF -> triple fault
    g2.kernel('ud2');
    expect(g2.run()).toBe(EXIT.TRIPLE_FAULT);
  });

  it('SYSCALL/SYSRET switch privilege with STAR/LSTAR/FMASK (SDM Vol. 2 SYSCALL, SYSRET)', () => {
    const g = new TestGuest();
    g.m.wrmsr(0xc0000082, BigInt(KCODE + 0x100)); // LSTAR
    g.m.wrmsr(0xc0000084, 0x200n);               // FMASK: clear IF
    g.load(KCODE + 0x100, 'mov rbx, rcx\nmov r12, r11\nadd rax, 1\nsysretq');
    g.userState(); g.user('mov eax, 41\nsyscall\nmov r13, rax\nhlt');
    expect(g.run()).toBe(EXIT.HLT); // back in user mode, HLT at CPL 3 -> #GP -> stub HLT
    expect(g.m.gpr('r13')).toBe(42n);
    expect(g.m.gpr('rbx')).toBe(BigInt(UCODE + 7));
    expect(g.m.gpr('r12') & 0x200n).toBe(0x200n);
    expect(g.record().vector).toBe(13);
  });

  it('IRETQ returns to CPL 3 and restores RSP, RFLAGS (SDM Vol. 2 IRET)', () => {
    const g = new TestGuest();
    g.kernel(`push 0x23\npush ${0x380000 - 64}\npush 0x202\npush 0x2b\npush ${UCODE}\niretq`);
    g.user('mov r14, rsp\nhlt');
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.m.gpr('r14')).toBe(BigInt(0x380000 - 64));
    expect(g.record().vector).toBe(13);
  });

  it('VM-entry event injection delivers an external interrupt through the IDT and clears the valid bit (SDM 26.6)', () => {
    const g = new TestGuest();
    g.kernel('sti\nnop\nnop\nhlt');
    g.m.vmwrite('GUEST_RFLAGS', 0x202);
    g.m.vmwrite('VM_ENTRY_INTR_INFO_FIELD', 0x80000000 | 0x30);
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.record().vector).toBe(0x30);
    expect(g.m.vmread('VM_ENTRY_INTR_INFO_FIELD') & 0x80000000n).toBe(0n);
  });

  it('an injected exception is delivered through the IDT even when its exception-bitmap bit is set (SDM 26.6.1.2)', () => {
    const g = new TestGuest();
    g.kernel('nop\nhlt');
    g.m.vmwrite('EXCEPTION_BITMAP', (1 << 1) | (1 << 6)); // #DB and #UD exit when they occur in the guest
    g.m.vmwrite('VM_ENTRY_INTR_INFO_FIELD', 0x80000000 | (3 << 8) | 6); // inject #UD (hardware exception)
    expect(g.run()).toBe(EXIT.HLT); // the IDT stub's HLT: no exception exit
    expect(g.record().vector).toBe(6);
    expect(g.m.vmread('VM_ENTRY_INTR_INFO_FIELD') & 0x80000000n).toBe(0n);
    // The same exception raised by a guest instruction does exit.
    const u = new TestGuest();
    u.kernel('ud2');
    u.m.vmwrite('EXCEPTION_BITMAP', 1 << 6);
    expect(u.run()).toBe(EXIT.EXCEPTION_NMI);
  });

  it('injecting an external interrupt with RFLAGS.IF = 0 fails the VM entry (SDM 26.3.1.5)', () => {
    const g = new TestGuest();
    g.kernel('hlt');
    g.m.vmwrite('GUEST_RFLAGS', 0x2);
    g.m.vmwrite('VM_ENTRY_INTR_INFO_FIELD', 0x80000000 | 0x30);
    expect(g.run()).toBe((0x80000000 | 33) >>> 0);
  });

  it('interrupt-window exiting respects RFLAGS.IF and the STI shadow (SDM 25.6.2, 26.7.5)', () => {
    const g = new TestGuest();
    g.kernel('nop\nsti\nnop\nnop\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 2));
    expect(g.run()).toBe(EXIT.INTERRUPT_WINDOW);
    // IF became 1 at STI, but the STI shadow blocks for one more instruction.
    expect(g.rip).toBe(BigInt(KCODE + 3));
  });

  it('external-interrupt exiting: a host interrupt exits with the vector when acknowledged on exit (SDM 25.6.1, 28.2.2)', () => {
    const g = new TestGuest();
    g.kernel('nop\nnop\nhlt');
    g.m.vmwrite('PIN_BASED_VM_EXEC_CONTROL', 1);
    g.m.vmwrite('VM_EXIT_CONTROLS', 1 << 15);
    g.m.postExternalInterrupt(0xef);
    expect(g.run()).toBe(EXIT.EXTERNAL_INTERRUPT);
    expect(g.m.vmread('VM_EXIT_INTR_INFO')).toBe(0x800000efn);
  });

  it('the VMX-preemption timer and the instruction budget end a run with exit 52 (SDM 25.5.1)', () => {
    const g = new TestGuest();
    g.kernel('1: jmp 1b');
    expect(g.run(1000)).toBe(EXIT.PREEMPTION_TIMER);
    g.m.vmwrite('PIN_BASED_VM_EXEC_CONTROL', 1 << 6);
    g.m.vmwrite('VMX_PREEMPTION_TIMER_VALUE', 10);
    const before = g.m.insnsRetired;
    expect(g.run(1_000_000)).toBe(EXIT.PREEMPTION_TIMER);
    expect(g.m.insnsRetired - before).toBe(10n); // the timer runs at the TSC rate: 10 cycles, one an instruction
  });

  it('CR access: CR3 load exiting and guest/host-masked CR4 writes exit with the register in the qualification (SDM Table 28-3)', () => {
    const g = new TestGuest();
    g.kernel('mov rax, 0x1000\nmov cr3, rax\nmov rbx, cr4\nor rbx, 0x80\nmov cr4, rbx\nxor rbx, 0x2000\nmov cr4, rbx\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | (1 << 15));
    expect(g.run()).toBe(EXIT.CR_ACCESS);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x3n); // CR3, MOV to CR, RAX
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 1 << 7);
    expect(g.run()).toBe(EXIT.CR_ACCESS); // the CR4.VMXE write is masked: its shadow is 0
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x304n); // CR4, MOV to CR, RBX
    expect(g.m.gpr('rbx') & 0x2000n).toBe(0x2000n);
  });

  it.each([
    ['vmread rax, rbx', 23], ['vmwrite rbx, rax', 25], ['vmptrld [rax]', 21], ['vmptrst [rax]', 22],
    ['vmclear [rax]', 19], ['vmxon [rax]', 27], ['invept rax, [rbx]', 50], ['invvpid rax, [rbx]', 53],
    ['vmlaunch', 20], ['vmresume', 24], ['vmxoff', 26],
  ])('%s exits unconditionally in VMX non-root operation, even at CPL 3 (SDM 26.1.2, reason %i)', (insn, reason) => {
    const g = new TestGuest();
    g.userState(); g.user(`mov rax, ${UDATA}\nmov rbx, ${UDATA}\n${insn}`);
    expect(g.run()).toBe(reason);
  });

  it('VMFUNC raises #UD when VM functions are not enabled (SDM 25.5.6.2)', () => {
    const g = new TestGuest();
    g.userState(); g.user('xor eax, eax\nxor ecx, ecx\nvmfunc');
    g.run();
    expect(g.record().vector).toBe(6);
  });

  it('a VM entry with guest state this CPU cannot run fails with reason 33 | bit 31 (SDM 26.3.1)', () => {
    const g = new TestGuest();
    g.m.vmwrite('VM_ENTRY_CONTROLS', 0);
    expect(g.run()).toBe((0x80000000 | 33) >>> 0);
  });

  it('self-modifying code: a store into decoded code is seen by the next fetch (SDM Vol. 3A 11.6)', () => {
    const g = new TestGuest();
    g.kernel(`
      mov byte ptr [rip + target + 1], 42
      target: mov eax, 7
      hlt`);
    expect(g.run()).toBe(EXIT.HLT);
    expect(g.m.gpr('rax')).toBe(42n);
    // Run the same code twice: the second pass decodes the patched bytes again after the host write.
    g.kernelState(); g.kernel(`
      mov byte ptr [rip + target + 1], 42
      target: mov eax, 7
      hlt`);
    g.run();
    expect(g.m.gpr('rax')).toBe(42n);
  });

  it('REP MOVSB copies across pages and a fault mid-string leaves RCX/RSI/RDI at the faulting element (SDM Vol. 1 7.3.9.1)', () => {
    const g = new TestGuest();
    g.m.vmwrite('EXCEPTION_BITMAP', 1 << 14);
    g.userState(); g.user(`mov rsi, ${UDATA}\nmov rdi, 0x7ffff0\nmov rcx, 0x40\nrep movsb\nhlt`);
    expect(g.run()).toBe(EXIT.EXCEPTION_NMI);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x800000n);
    expect(g.m.gpr('rcx')).toBe(0x30n);
    expect(g.m.gpr('rdi')).toBe(0x800000n);
  });
});
