// Far transfers in 64-bit mode (assembly/far.ts): RETF/LRETQ, far JMP and CALL through memory
// (SDM Vol. 2A RET, JMP, CALL -- their IA-32e-mode operation; Vol. 3A 5.8 "Privilege Level Checking
// When Transferring Program Control Between Code Segments", 5.8.3.1 IA-32e call gates). User-mode
// cases run against the host in the `exec` environment, whose GDT is Linux's (src/exec.ts LINUX_GDT:
// __USER_CS 0x33, __USER_DS 0x2b, __USER32_CS 0x23, __KERNEL_CS 0x10), so natively and here an LRETQ
// to 0x33 checks the same descriptors; the CPL-0 cases (outer-privilege returns, call gates) use a
// TestGuest.
import { describe, it, expect } from 'vitest';
import { runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { asm } from './helpers/asm.js';
import { TestGuest, KCODE, KSTACK, UCODE, USTACK, GDT } from './helpers/guest.js';

const DATA = 0x20000000;
const c = (src: string, regs: Record<string, number | string> = {}): DiffCase =>
  ({ code: asm(src), regs: { rsp: DATA + 0x8000, rsi: DATA + 0x100, rbx: 7, ...regs }, rflags: 0x8c5 });

function agree(cs: DiffCase[]): string[] {
  const r = runCases(cs);
  r.forEach((x, i) => expect(x.diffs, `case ${i}: ${JSON.stringify(x.exec)}`).toEqual([]));
  return r.map((x) => `${x.nat.stop}${x.nat.vector !== undefined ? `:${x.nat.vector}:${x.nat.error_code}` : ''}`);
}
// LRETQ to `sel` with RIP = label `t`.
const lretq = (sel: string, extra = '') => `lea rax, [rip+t]\npush ${sel}\npush rax\n${extra}lretq\nt: add rbx, 1`;

describe.skipIf(nativeSkip)('RETF in user mode against the host (SDM Vol. 2A RET far; Vol. 3A 5.8)', () => {
  it('LRETQ to __USER_CS (0x33), as Linux returns after loading a GDT (arch/x86/kernel/head_64.S)', () => {
    // The popped CS is the low 16 bits of its 8-byte slot.
    expect(agree([c(lretq('0x33')), c(`lea rax, [rip+t]\nmov rcx, 0x1234000000000033\npush rcx\npush rax\nlretq\nt: add rbx, 1`)]))
      .toEqual(['end', 'end']);
  });
  it('RETF imm16 releases the parameters; 32-bit RETF pops 4-byte EIP and CS; 66 RETF 16-bit', () => {
    expect(agree([
      c('lea rax, [rip+t]\nsub rsp, 24\npush 0x33\npush rax\nlretq 24\nt: add rbx, 1'),
      c('lea rax, [rip+t]\nsub rsp, 8\nmov [rsp], eax\nmov dword ptr [rsp+4], 0x33\nretf\nt: add rbx, 1'),
      c('lea rax, [rip+t]\nsub rsp, 8\nmov [rsp], eax\nmov dword ptr [rsp+4], 0x33\nretf 0x100\nt: add rbx, 1'),
      c('sub rsp, 4\nmov word ptr [rsp], 0x1000\nmov word ptr [rsp+2], 0x33\n.byte 0x66\nretf'), // 16-bit: RIP 0x1000, #PF fetching it
    ])).toEqual(['end', 'end', 'end', 'exception:14:0x14']);
  });
  it('selector checks: null, RPL < CPL, DPL != RPL, data segment, TSS, beyond the GDT, LDT', () => {
    const st = agree(['0x3', '0x0', '0x10', '0x13', '0x2b', '0x43', '0x83', '0x7b', '0x37', '0x1b'].map((s) => c(lretq(s))));
    expect(st).toEqual(['exception:13:0x0', 'exception:13:0x0', 'exception:13:0x10', 'exception:13:0x10', 'exception:13:0x28',
      'exception:13:0x40', 'exception:13:0x80', 'exception:13:0x78', 'exception:13:0x34', 'exception:13:0x18']);
  });
  it('a non-canonical return RIP is #GP(0); a stack beyond the window is #PF and nothing changes', () => {
    expect(agree([
      c('mov rax, 0x0000800000000000\npush 0x33\npush rax\nlretq'),
      c('lretq', { rsp: DATA + 0x10000 - 8 }),
    ])).toEqual(['exception:13:0x0', 'exception:14:0x4']);
  });
});

describe.skipIf(nativeSkip)('far JMP / CALL m16:32 in user mode against the host (SDM Vol. 2A JMP, CALL)', () => {
  // [rsi] = offset (4 bytes), selector (2 bytes). FF 2E = JMP FAR [rsi]; FF 1E = CALL FAR [rsi].
  const far = (op: string, sel: string, tail = 'add rbx, 1') =>
    `lea rax, [rip+t]\nmov [rsi], eax\nmov word ptr [rsi+4], ${sel}\n.byte 0xff, ${op}\nadd rbx, 100\nt: ${tail}`;
  it('to __USER_CS: JMP continues at the target; CALL pushes 4-byte CS and EIP, RETF returns', () => {
    expect(agree([
      c(far('0x2e', '0x33')),
      c(far('0x1e', '0x33', 'mov ecx, [rsp]\nmov edx, [rsp+4]\nadd rbx, 1')),
      c(`lea rax, [rip+f]\nmov [rsi], eax\nmov word ptr [rsi+4], 0x33\n.byte 0xff, 0x1e\nadd rbx, 100\njmp e\nf: add rbx, 1\nretf\ne: nop`),
      c(`lea rax, [rip+t]\nmov [rsi], ax\nmov word ptr [rsi+2], 0x33\n.byte 0x66, 0xff, 0x2e\nt: nop`), // m16:16: IP only
    ])).toEqual(['end', 'end', 'end', 'exception:14:0x14']);
  });
  it('selector checks: null, kernel CS, data, TSS, beyond the GDT, an unmapped or read-only stack for CALL (#PF on the CS push)', () => {
    const st = agree([
      c(far('0x2e', '0x0')), c(far('0x2e', '0x10')), c(far('0x1e', '0x13')), c(far('0x2e', '0x2b')), c(far('0x2e', '0x40')),
      c(far('0x1e', '0x88')), c(far('0x1e', '0x33'), { rsp: 0x10000000 }), c(far('0x1e', '0x33'), { rsp: 0x10001000 }),
    ]);
    expect(st).toEqual(['exception:13:0x0', 'exception:13:0x10', 'exception:13:0x10', 'exception:13:0x28', 'exception:13:0x40',
      'exception:13:0x88', 'exception:14:0x6', 'exception:14:0x7']);
  });
  it('register forms (FF D8, FF E8) are #UD', () => {
    expect(agree([c('.byte 0xff, 0xd8'), c('.byte 0xff, 0xe8')])).toEqual(['exception:6:undefined', 'exception:6:undefined']);
  });
});

// ---- CPL 0 (TestGuest GDT: 0x08 kernel code64, 0x10 kernel data, 0x18 user code32, 0x20 user data,
// 0x28 user code64, 0x30 TSS; free slots from 0x40 on for the tests' own descriptors) -------------

function guest(): TestGuest {
  const g = new TestGuest();
  g.m.vmwrite('GUEST_GDTR_LIMIT', 0x7f);
  return g;
}
const ran = (g: TestGuest) => { expect(g.run()).toBe(12); return g.record(); };

describe('RETF to an outer privilege level (SDM Vol. 2A RET far "RETURN-TO-OUTER-PRIVILEGE-LEVEL")', () => {
  it('LRETQ from CPL 0 to user CS 0x2b pops RIP, CS, RSP, SS and nulls DS/ES whose DPL < 3', () => {
    const g = guest();
    g.kernel(`mov ax, 0x10\nmov ds, ax\nmov es, ax\nmov ax, 0x20\nmov fs, ax\n` +
      `push 0x23\npush ${USTACK - 0x40}\npush 0x2b\npush ${UCODE}\nlretq`);
    g.user('mov rax, 1\nhlt'); // HLT at CPL 3 is #GP(0): the stub records it
    const r = ran(g);
    expect(r.vector).toBe(13);
    // The #GP frame shows the user context: CS 0x2b, SS 0x23, RSP as popped.
    const fr = KSTACK - 48;
    expect(g.m.read64(fr + 8 + 8)).toBe(0x2bn);
    expect(g.m.read64(fr + 8 + 32)).toBe(0x23n);
    expect(g.m.read64(fr + 8 + 24)).toBe(BigInt(USTACK - 0x40));
    expect(g.m.vmread('GUEST_DS_SELECTOR')).toBe(0n);
    expect(g.m.vmread('GUEST_ES_SELECTOR')).toBe(0n);
    expect(g.m.vmread('GUEST_FS_SELECTOR')).toBe(0x20n); // a DPL-3 data segment stays
  });
  it('RETF imm16 to the outer level releases the parameters on both stacks', () => {
    const g = guest();
    g.kernel(`push 0x23\npush ${USTACK - 0x40}\nsub rsp, 16\npush 0x2b\npush ${UCODE}\nlretq 16`);
    g.user('hlt');
    ran(g);
    expect(g.m.read64(KSTACK - 48 + 8 + 24)).toBe(BigInt(USTACK - 0x40 + 16));
  });
  it('SS checks: RPL != CS.RPL, DPL != RPL, non-writable, null at CPL 3', () => {
    const ret = (ss: string) => `push ${ss}\npush ${USTACK}\npush 0x2b\npush ${UCODE}\nlretq`;
    for (const [ss, vec, err] of [['0x20', 13, 0x20n], ['0x13', 13, 0x10n], ['0x2b', 13, 0x28n], ['0x3', 13, 0n]] as const) {
      const g = guest();
      g.kernel(ret(ss));
      const r = ran(g);
      expect([r.vector, r.error], ss).toEqual([vec, err]);
    }
  });
  it('not-present CS: #NP(sel); CS.L = 0 (compatibility mode, not modelled): #GP(sel)', () => {
    const g = guest();
    g.m.write64(GDT + 0x40, 0x00af7b000000ffffn); // user code64, P = 0
    g.kernel(`push 0x23\npush ${USTACK}\npush 0x43\npush ${UCODE}\nlretq`);
    expect([ran(g).vector, g.record().error]).toEqual([11, 0x40n]);
    const h = guest();
    h.kernel(`push 0x23\npush ${USTACK}\npush 0x1b\npush ${UCODE}\nlretq`);
    expect([ran(h).vector, h.record().error]).toEqual([13, 0x18n]);
  });
});

describe('64-bit call gates (SDM Vol. 3A 5.8.3.1, 5.8.5; Vol. 2A CALL/JMP IA-32e call-gate operation)', () => {
  /** A 16-byte call gate at GDT+off to `sel:target`, DPL `dpl`. */
  function gate(g: TestGuest, off: number, sel: number, target: number, dpl: number, upper = 0n): void {
    const t = BigInt(target);
    g.m.write64(GDT + off, (t & 0xffffn) | (BigInt(sel) << 16n) | ((0x8cn | (BigInt(dpl) << 5n)) << 40n) | (((t >> 16n) & 0xffffn) << 48n));
    g.m.write64(GDT + off + 8, (t >> 32n) | upper);
  }
  it('CALL FAR from CPL 3 through a DPL-3 gate to kernel CS: stack from TSS.RSP0, old SS:RSP, CS:RIP pushed', () => {
    const g = guest();
    gate(g, 0x40, 0x08, KCODE + 0x100, 3);
    g.load(KCODE + 0x100, 'mov rax, [rsp]\nmov rbx, [rsp+8]\nmov rcx, [rsp+16]\nmov rdx, [rsp+24]\nmov rdi, rsp\nmov r8, ss\nmov r9, cs\nhlt');
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 1 << 7);
    g.userState();
    const call = `mov rsi, ${0x300000}\nmov dword ptr [rsi], 0\nmov word ptr [rsi+4], 0x43\n.byte 0xff, 0x1e`;
    g.user(`${call}\nnop`);
    expect(g.run()).toBe(12); // the kernel's HLT
    expect(g.m.gpr(0)).toBe(BigInt(UCODE + asm(call).length)); // return RIP: after the CALL
    expect(g.m.gpr(3)).toBe(0x2bn);                 // old CS
    expect(g.m.gpr(1)).toBe(BigInt(USTACK));        // old RSP
    expect(g.m.gpr(2)).toBe(0x23n);                 // old SS
    expect(g.m.gpr(7)).toBe(BigInt(KSTACK - 32));   // TSS.RSP0 - 32
    expect(g.m.gpr(8)).toBe(0n);                    // SS = null selector, RPL 0
    expect(g.m.gpr(9)).toBe(0x08n);
  });
  it('JMP FAR through a gate at the same privilege; gate DPL < CPL is #GP(gate); a non-zero upper type is #GP(gate)', () => {
    const g = guest();
    gate(g, 0x40, 0x08, KCODE + 0x100, 0);
    g.load(KCODE + 0x100, 'mov rax, 0x77\nhlt');
    g.kernel(`mov rsi, 0x300000\nmov dword ptr [rsi], 0\nmov word ptr [rsi+4], 0x40\n.byte 0xff, 0x2e`);
    expect(g.run()).toBe(12);
    expect(g.m.gpr(0)).toBe(0x77n);
    const h = guest();
    gate(h, 0x40, 0x08, KCODE + 0x100, 0);
    h.userState();
    h.user(`mov rsi, 0x300000\nmov dword ptr [rsi], 0\nmov word ptr [rsi+4], 0x43\n.byte 0xff, 0x1e`);
    expect([ran(h).vector, h.record().error]).toEqual([13, 0x40n]);
    const k = guest();
    gate(k, 0x40, 0x08, KCODE + 0x100, 0, 0x1n << 40n);
    k.kernel(`mov rsi, 0x300000\nmov dword ptr [rsi], 0\nmov word ptr [rsi+4], 0x40\n.byte 0xff, 0x2e`);
    expect([ran(k).vector, k.record().error]).toEqual([13, 0x40n]);
  });
  it('a gate to a 32-bit code segment is #GP(target selector)', () => {
    const g = guest();
    gate(g, 0x40, 0x18, KCODE + 0x100, 0);
    g.kernel(`mov rsi, 0x300000\nmov dword ptr [rsi], 0\nmov word ptr [rsi+4], 0x40\n.byte 0xff, 0x1e`);
    expect([ran(g).vector, g.record().error]).toEqual([13, 0x18n]);
  });
});
