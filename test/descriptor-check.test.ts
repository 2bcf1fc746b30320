// VERR/VERW, LAR and LSL (SDM Vol. 2B "VERR/VERW", Vol. 2A "LAR", "LSL") at CPL 3 against the host
// CPU: the exec environment (src/exec.ts) carries Linux's GDT, the host process runs under Linux's,
// so every selector names the same descriptor on both sides. Checked: null and beyond-limit
// selectors and the LDT (none under Linux) clear ZF and leave the destination alone; DPL < CPL or
// DPL < RPL clears ZF; system descriptors (the TSS) fail for VERR/VERW and are invisible at CPL 3;
// LAR's mask (bits 23:8 with a 32/64-bit operand, 15:8 with a 16-bit one: the upper half of the
// 16-bit register kept), LSL's limit with G applied, zero-extended with REX.W; only 16 bits of the
// selector register are used; the memory forms read 16 bits. Two entries depend on the host and are
// left out: index 15 (0x78-0x7f, GDT_ENTRY_CPUNODE), whose limit is the CPU the runner happens to run
// on, and index 4 (0x20-0x27, __USER32_CS), which a kernel without IA32 emulation (or booted with
// ia32_emulation=0) leaves unusable while src/exec.ts keeps it as IA32_EMULATION kernels have it.
// Then, in a kernel-mode TestGuest (test/helpers/guest.ts), what CPL 3 cannot see: the 16-byte
// system descriptors (LDT, 64-bit TSS, call gate) and their upper-half checks, conforming code,
// non-present descriptors, an LDT, and Linux's vDSO getcpu (vdso_read_cpunode: LSL on CPUNODE).
import { describe, it, expect } from 'vitest';
import { runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { TestGuest, GDT } from './helpers/guest.js';
import { asm } from './helpers/asm.js';

const DATA = 0x20000000;

// Selectors: every GDT index 0-14 but 4 with RPL 0, 1 and 3, the LDT bit, and beyond Linux's limit (0x7f).
const SELECTORS: number[] = [];
for (let i = 0; i < 15; i++) if (i !== 4) SELECTORS.push(i << 3, (i << 3) | 3, (i << 3) | 1);
SELECTORS.push(0x04, 0x07, 0x2f, 0x80, 0x83, 0x1000, 0xfffb, 0xffff);

const OPS: [string, string][] = [
  ['lar eax, ecx', 'lar'], ['lar rax, rcx', 'lar'], ['lar ax, cx', 'lar'],
  ['lsl eax, ecx', 'lsl'], ['lsl rax, rcx', 'lsl'], ['lsl ax, cx', 'lsl'],
  ['verr cx', 'verr'], ['verw cx', 'verw'],
  // memory operands: 16 bits read from the data window
  ['mov [rsi], cx\nlar eax, word ptr [rsi]', 'lar'], ['mov [rsi+1], cx\nlsl rax, word ptr [rsi+1]', 'lsl'],
  ['mov [rsi], cx\nverr word ptr [rsi]', 'verr'], ['mov [rsi], cx\nverw word ptr [rsi]', 'verw'],
];

function cases(): DiffCase[] {
  const out: DiffCase[] = [];
  for (const [src] of OPS) {
    const code = asm(src);
    for (const sel of SELECTORS) {
      for (const zf of [0, 0x40]) {
        // Upper bits of RCX are ignored: only the 16-bit selector counts.
        out.push({ code, rflags: 0x8d5 & ~0x40 | zf,
          regs: { rcx: `0x${(0x5a5a0000n | BigInt(sel)).toString(16)}`, rax: '0x0123456789abcdef', rsi: DATA + 0x200 } });
      }
    }
  }
  return out;
}

describe.skipIf(nativeSkip)('VERR/VERW, LAR, LSL at CPL 3 against the host (Linux\'s GDT on both sides)', () => {
  it('every GDT selector, RPL, null, LDT and beyond-limit selector, 16/32/64-bit operands, register and memory forms', () => {
    const cs = cases();
    const r = runCases(cs);
    const bad = r.filter((x) => x.diffs.length > 0).map((x) => `${JSON.stringify(x.exec)}: ${x.diffs.join('; ')}`);
    expect(bad.slice(0, 10)).toEqual([]);
    // The cases are not vacuous: some set ZF and load a value, some clear it.
    const zf = r.map((x) => (BigInt(x.nat.rflags as string) & 0x40n) !== 0n);
    expect(zf.filter(Boolean).length).toBeGreaterThan(50);
    expect(zf.filter((z) => !z).length).toBeGreaterThan(50);
    expect(r.every((x) => x.nat.stop === 'end')).toBe(true);
  });

  it('LAR/LSL on Linux\'s user segments give the values the SDM derives from the descriptors', () => {
    const code = asm('lar rax, rcx\nlsl rdx, rcx');
    const r = runCases([0x2b, 0x33].map((sel) => ({ code, regs: { rcx: sel } })));
    r.forEach((x) => expect(x.diffs).toEqual([]));
    // __USER_DS 0x00cff3000000ffff: rights F3 (P, DPL 3, data RW accessed) + CF (G, D/B, limit 19:16).
    expect([r[0].emu.regs!.rax, r[0].emu.regs!.rdx]).toEqual(['0xcff300', '0xffffffff']);
    // __USER_CS 0x00affb000000ffff: L set, D clear.
    expect(r[1].emu.regs!.rax).toBe('0xaffb00');
  });
});

// ---------------------------------------------------------------- CPL 0, descriptors of our own --

// GDT slots of the TestGuest (0x5000) past its TSS (0x30-0x3f), laid out per test.
const put = (g: TestGuest, sel: number, d: bigint) => g.m.write64(GDT + (sel & ~7), d);
const desc = (type: number, dpl: number, opts: { s?: boolean; p?: boolean; g?: boolean; limit?: number; base?: number; flags?: number } = {}) => {
  const limit = opts.limit ?? 0xfffff, base = opts.base ?? 0;
  const access = (type & 0xf) | ((opts.s ?? true) ? 0x10 : 0) | (dpl << 5) | ((opts.p ?? true) ? 0x80 : 0);
  const fl = (opts.flags ?? 0) | ((opts.g ?? false) ? 0x8 : 0);
  return BigInt(limit & 0xffff) | (BigInt(base & 0xffffff) << 16n) | (BigInt(access) << 40n) |
    (BigInt((limit >>> 16) & 0xf) << 48n) | (BigInt(fl) << 52n) | (BigInt((base >>> 24) & 0xff) << 56n);
};

/** Runs `lar rax, rcx; lsl rdx, rcx; verr cx; (ZF to r8) verw cx; (ZF to r9); hlt` with RCX = sel at CPL 0 (RPL from sel). */
function probe(g: TestGuest, sel: number): { lar: bigint | null; lsl: bigint | null; verr: boolean; verw: boolean } {
  g.kernel(`
    mov rax, -1
    mov rdx, -1
    xor r10, r10
    xor r11, r11
    lar rax, rcx
    setz r10b
    lsl rdx, rcx
    setz r11b
    verr cx
    setz r8b
    verw cx
    setz r9b
    hlt`);
  g.kernelState();
  g.m.setGpr('rcx', BigInt(sel)); g.m.setGpr('r8', 0n); g.m.setGpr('r9', 0n);
  g.m.vmwrite('GUEST_GDTR_LIMIT', 0xff);
  expect(g.run()).toBe(12); // HLT exit
  const lar = g.m.gpr('r10') ? g.m.gpr('rax') : null;
  const lsl = g.m.gpr('r11') ? g.m.gpr('rdx') : null;
  if (lar === null) expect(g.m.gpr('rax')).toBe(0xffffffffffffffffn); // untouched on failure
  if (lsl === null) expect(g.m.gpr('rdx')).toBe(0xffffffffffffffffn);
  return { lar, lsl, verr: g.m.gpr('r8') === 1n, verw: g.m.gpr('r9') === 1n };
}

describe('LAR/LSL/VERR/VERW in 64-bit mode at CPL 0 (SDM Vol. 2A LAR, LSL Tables "Segment and Gate Types"; Vol. 2B VERR/VERW)', () => {
  it('system descriptors: LDT, 64-bit TSS (available, busy) and, for LAR only, the 64-bit call gate; never VERR/VERW', () => {
    const g = new TestGuest();
    const sys = (type: number) => desc(type, 0, { s: false, limit: 0x1234, base: 0x9000 });
    for (const [type, lar, lsl] of [[0x2, true, true], [0x9, true, true], [0xb, true, true], [0xc, true, false],
      [0x1, false, false], [0x3, false, false], [0x4, false, false], [0x5, false, false], [0x6, false, false],
      [0x7, false, false], [0xe, false, false], [0xf, false, false], [0x0, false, false], [0x8, false, false], [0xa, false, false], [0xd, false, false]] as [number, boolean, boolean][]) {
      put(g, 0x40, sys(type)); put(g, 0x48, 0n);
      const r = probe(g, 0x40);
      expect(r.lar, `type ${type}`).toBe(lar ? 0x8000n | (BigInt(type) << 8n) : null);
      expect(r.lsl, `type ${type}`).toBe(lsl ? 0x1234n : null);
      expect(r.verr || r.verw, `type ${type}`).toBe(false);
    }
  });

  it('a 16-byte system descriptor needs its upper half within the table and with type 0 (else ZF = 0)', () => {
    const g = new TestGuest();
    put(g, 0x40, desc(0x9, 0, { s: false, limit: 0x67 })); put(g, 0x48, 0x00001f0000000000n); // upper type 0x1f
    expect(probe(g, 0x40)).toMatchObject({ lar: null, lsl: null });
    put(g, 0x48, 0xffffffffn); // base 63:32 only
    expect(probe(g, 0x40)).toMatchObject({ lar: 0x8900n, lsl: 0x67n });
    // The last 8 bytes of the table: the upper half would lie beyond the limit (0xff).
    put(g, 0xf8, desc(0x2, 0, { s: false, limit: 0x10 }));
    expect(probe(g, 0xf8)).toMatchObject({ lar: null, lsl: null });
    // A code segment there needs no upper half.
    put(g, 0xf8, desc(0xb, 0));
    expect(probe(g, 0xf8).lar).toBe(0x9b00n | 0x0f0000n);
  });

  it('DPL against CPL 0 and RPL; conforming code is exempt for LAR/LSL/VERR; a non-present segment still answers', () => {
    const g = new TestGuest();
    put(g, 0x40, desc(0x3, 1)); // data RW, DPL 1
    expect(probe(g, 0x40)).toEqual({ lar: 0xb300n | 0x0f0000n, lsl: 0xfffffn, verr: true, verw: true });
    expect(probe(g, 0x41)).toEqual({ lar: 0xb300n | 0x0f0000n, lsl: 0xfffffn, verr: true, verw: true });
    expect(probe(g, 0x42)).toEqual({ lar: null, lsl: null, verr: false, verw: false }); // RPL 2 > DPL 1
    put(g, 0x40, desc(0xc, 0)); // conforming execute-only code, DPL 0: RPL 3 may still LAR/LSL it
    expect(probe(g, 0x43)).toEqual({ lar: 0x9c00n | 0x0f0000n, lsl: 0xfffffn, verr: false, verw: false });
    put(g, 0x40, desc(0xe, 0)); // conforming readable: VERR ignores DPL; never writable
    expect(probe(g, 0x43)).toMatchObject({ verr: true, verw: false });
    put(g, 0x40, desc(0xa, 0)); // non-conforming readable code, RPL 3 > DPL 0: all fail
    expect(probe(g, 0x43)).toEqual({ lar: null, lsl: null, verr: false, verw: false });
    put(g, 0x40, desc(0x1, 0, { p: false, g: true, limit: 0x12 })); // read-only data, not present
    expect(probe(g, 0x40)).toEqual({ lar: 0x1100n | 0x800000n, lsl: 0x12fffn, verr: true, verw: false });
  });

  it('an LDT: TI selects it, its limit bounds it; with LDTR unusable every TI=1 selector fails', () => {
    const g = new TestGuest();
    const LDT = 0xc000;
    g.m.write64(LDT + 8, desc(0x3, 3, { limit: 0x777 }));
    expect(probe(g, 0x0c)).toEqual({ lar: null, lsl: null, verr: false, verw: false });
    g.kernel(`lar rax, rcx\nsetz r10b\nlsl rdx, rcx\nsetz r11b\nverw cx\nsetz r9b\nlar rbx, rdi\nsetz r8b\nhlt`);
    g.kernelState();
    g.m.vmwrite('GUEST_LDTR_SELECTOR', 0x50); g.m.vmwrite('GUEST_LDTR_AR_BYTES', 0x82);
    g.m.vmwrite('GUEST_LDTR_BASE', LDT); g.m.vmwrite('GUEST_LDTR_LIMIT', 0xf);
    for (const r of ['rax', 'rbx', 'rdx', 'r8', 'r9', 'r10', 'r11']) g.m.setGpr(r as never, 0n);
    g.m.setGpr('rcx', 0x0fn); g.m.setGpr('rdi', 0x14n); // LDT index 1 RPL 3; index 2 beyond the limit
    expect(g.run()).toBe(12);
    expect([g.m.gpr('rax'), g.m.gpr('rdx'), g.m.gpr('r10'), g.m.gpr('r11'), g.m.gpr('r9')]).toEqual([0xf300n, 0x777n, 1n, 1n, 1n]);
    expect([g.m.gpr('rbx'), g.m.gpr('r8')]).toEqual([0n, 0n]);
  });

  it('Linux\'s vDSO getcpu: LSL on GDT_ENTRY_CPUNODE (0x7b) from CPL 3 yields cpu | node << 12', () => {
    const g = new TestGuest();
    // setup_getcpu (arch/x86/kernel/cpu/common.c): type 5 (read-only data, expand-down, accessed), S,
    // DPL 3, P, D = 1, byte granular, limit = vdso_encode_cpunode(cpu, node): here CPU 5 on node 1.
    const cpunode = 5 | (1 << 12);
    put(g, 0x78, desc(0x5, 3, { limit: cpunode, flags: 0x4 }));
    g.m.vmwrite('GUEST_GDTR_LIMIT', 0x7f);
    // (the INT3 stub pops its error-code slot into RAX: the results go to RBX, RCX, RDX)
    g.load(0x200000, 'mov eax, 0x7b\nlsl eax, eax\nsetz bl\nmov ecx, eax\nand ecx, 0xfff\nmov edx, eax\nshr edx, 12\nint3');
    g.userState();
    g.m.setGpr('rbx', 0n);
    expect(g.run()).toBe(12); // the INT3 stub's HLT
    expect(g.record().vector).toBe(3);
    expect([g.m.gpr('rcx'), g.m.gpr('rdx'), g.m.gpr('rbx') & 0xffn]).toEqual([5n, 1n, 1n]);
  });

  it('a memory operand that faults: #PF, nothing written', () => {
    const g = new TestGuest();
    g.kernel('mov rbx, 7\nlar rbx, word ptr [0x7fff0000]\nhlt');
    g.kernelState();
    expect(g.run()).toBe(12);
    expect(g.record().vector).toBe(14);
    expect(g.m.gpr('rbx')).toBe(7n);
  });
});

