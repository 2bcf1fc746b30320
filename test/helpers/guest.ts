// A minimal 64-bit guest for CPU tests: identity-mapped low memory, a GDT with
// kernel/user segments laid out for SYSCALL/SYSRET, a TSS with RSP0 and IST1,
// an IDT whose handlers record the vector and error code, and VMCS controls a
// test can adjust. Machine-physical layout (identity = guest-physical):
//   0x1000 PML4, 0x2000 PDPT, 0x3000 PD (2 MiB pages, first 8 MiB: 0-2 MiB supervisor, 2-8 MiB user)
//   0x4000 stub records, 0x5000 GDT, 0x6000 TSS, 0x7000 IDT, 0x8000 handler stubs (32 bytes apart)
//   0x10000 kernel code, 0x20000 kernel stack top, 0x30000 IST1 stack top
//   0x200000 user code, 0x300000 user data, 0x380000 user stack top
import { Machine } from '../../src/machine.js';
import { asm } from './asm.js';

export const KCODE = 0x10000, KSTACK = 0x20000, IST1 = 0x30000;
export const UCODE = 0x200000, UDATA = 0x300000, USTACK = 0x380000;
export const GDT = 0x5000, TSS = 0x6000, IDT = 0x7000, STUBS = 0x8000;
// Where the IDT stubs record what they saw: vector, error code (0 if none), count.
export const REC = 0x4000;

export interface GuestOptions { memMiB?: number }

export class TestGuest {
  readonly m: Machine;
  constructor(opts: GuestOptions = {}) {
    this.m = Machine.createSync({ memMiB: opts.memMiB ?? 16 });
    this.build();
  }

  private build(): void {
    const m = this.m;
    const w64 = (a: number, v: bigint) => m.write64(a, v);
    w64(0x1000, 0x2000n | 7n);
    w64(0x2000, 0x3000n | 7n);
    for (let i = 0; i < 4; i++) w64(0x3000 + i * 8, BigInt(i * 0x200000) | 0x83n | (i >= 1 ? 4n : 0n)); // P RW PS (+U)
    // GDT: 0 null, 0x08 kernel code64, 0x10 kernel data, 0x18 user code32 (unused), 0x20 user data, 0x28 user code64, 0x30 TSS
    const gdt = [0n, 0x00af9b000000ffffn, 0x00cf93000000ffffn, 0x00cffb000000ffffn, 0x00cff3000000ffffn, 0x00affb000000ffffn];
    gdt.forEach((d, i) => w64(GDT + i * 8, d));
    const tssLo = 0x67n | (BigInt(TSS & 0xffffff) << 16n) | (0x89n << 40n) | (BigInt((TSS >>> 24) & 0xff) << 56n);
    w64(GDT + 0x30, tssLo); w64(GDT + 0x38, 0n);
    w64(TSS + 4, BigInt(KSTACK));          // RSP0
    w64(TSS + 0x24, BigInt(IST1));         // IST1
    // IDT: interrupt gates to stubs; each stub records (vector, error code) and HLTs (HLT exiting on).
    const errVectors = [8, 10, 11, 12, 13, 14, 17, 21];
    let src = '';
    for (let v = 0; v < 256; v++) {
      src += `.balign 32\n${errVectors.includes(v) ? '' : 'push 0\n'}mov qword ptr [${REC}], ${v}\npop rax\n` +
        `mov qword ptr [${REC + 8}], rax\ninc qword ptr [${REC + 16}]\nhlt\n`;
    }
    m.writePhys(STUBS, asm(src, STUBS));
    for (let v = 0; v < 256; v++) {
      const stub = STUBS + v * 32;
      const gate = (BigInt(stub & 0xffff)) | (0x08n << 16n) | (0x8en << 40n) | (BigInt((stub >>> 16) & 0xffff) << 48n);
      w64(IDT + v * 16, gate | (v === 3 || v === 0x80 ? 3n << 45n : 0n)); // DPL 3 for INT3 and INT 0x80
      w64(IDT + v * 16 + 8, 0n);
    }
    this.kernelState();
  }

  /** Kernel (CPL 0) state at KCODE with a kernel stack. */
  kernelState(): void {
    const m = this.m;
    const w = (f: string, v: bigint | number) => m.vmwrite(f, v);
    w('GUEST_CR0', 0x80050033n); w('GUEST_CR3', 0x1000); w('GUEST_CR4', 0x20 | 0x2000); w('GUEST_IA32_EFER', 0xd01);
    w('CR4_GUEST_HOST_MASK', 0x2000); w('CR4_READ_SHADOW', 0);
    this.seg('CS', 0x08, 0xa09b); this.seg('SS', 0x10, 0xc093);
    for (const s of ['DS', 'ES', 'FS', 'GS']) this.seg(s, 0, 0x10000);
    w('GUEST_LDTR_SELECTOR', 0); w('GUEST_LDTR_AR_BYTES', 0x10000);
    w('GUEST_TR_SELECTOR', 0x30); w('GUEST_TR_AR_BYTES', 0x8b); w('GUEST_TR_BASE', TSS); w('GUEST_TR_LIMIT', 0x67);
    w('GUEST_GDTR_BASE', GDT); w('GUEST_GDTR_LIMIT', 0x3f); w('GUEST_IDTR_BASE', IDT); w('GUEST_IDTR_LIMIT', 0xfff);
    w('GUEST_RSP', KSTACK); w('GUEST_RIP', KCODE); w('GUEST_RFLAGS', 0x2);
    w('GUEST_INTERRUPTIBILITY_INFO', 0); w('GUEST_ACTIVITY_STATE', 0);
    w('VM_ENTRY_CONTROLS', 1 << 9);
    w('CPU_BASED_VM_EXEC_CONTROL', 1 << 7); // HLT exiting: the stubs' HLT ends a test
    w('EXCEPTION_BITMAP', 0);
    m.wrmsr(0xc0000081, (0x18n << 48n) | (0x08n << 32n)); // STAR: SYSRET base 0x18, SYSCALL CS 0x08
  }

  seg(s: string, sel: number, ar: number): void {
    const w = (f: string, v: bigint | number) => this.m.vmwrite(f, v);
    w(`GUEST_${s}_SELECTOR`, sel); w(`GUEST_${s}_AR_BYTES`, ar); w(`GUEST_${s}_BASE`, 0); w(`GUEST_${s}_LIMIT`, 0xffffffff);
  }

  /** Switches the entry state to CPL 3 at UCODE. */
  userState(): void {
    this.seg('CS', 0x2b, 0xa0fb); this.seg('SS', 0x23, 0xc0f3);
    this.m.vmwrite('GUEST_RSP', USTACK); this.m.vmwrite('GUEST_RIP', UCODE); this.m.vmwrite('GUEST_RFLAGS', 0x202);
  }

  load(addr: number, src: string): void { this.m.writePhys(addr, asm(src, addr)); }
  kernel(src: string): void { this.load(KCODE, src); }
  user(src: string): void { this.load(UCODE, src); }

  run(budget = 1_000_000): number { return this.m.vmresume(budget); }
  get rip(): bigint { return this.m.vmread('GUEST_RIP'); }
  record(): { vector: number; error: bigint; count: number } {
    return { vector: Number(this.m.read64(REC)), error: this.m.read64(REC + 8), count: Number(this.m.read64(REC + 16)) };
  }
}
