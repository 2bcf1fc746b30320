// SYSENTER/SYSEXIT in IA-32e mode (SDM Vol. 2B "SYSENTER -- Fast System Call", "SYSEXIT -- Fast
// Return from Fast System Call"; Vol. 3A 5.8.7), run at CPL 3 and CPL 0 in a TestGuest
// (test/helpers/guest.ts: kernel code 0x08, data 0x10, user code64 0x28). The MSRs come from the VMCS
// guest-state area (GUEST_SYSENTER_CS/ESP/EIP, loaded at VM entry as SDM 27.3.2.1 says). Checked: the
// flat CS/SS the pseudocode loads (not read from the GDT), RSP/RIP from the MSRs (SYSENTER) or
// RCX/RDX (SYSEXIT with REX.W), RFLAGS.VM/IF/RF cleared by SYSENTER and kept by SYSEXIT, and the
// #GP(0) cases: IA32_SYSENTER_CS[15:2] = 0, SYSEXIT at CPL > 0, SYSEXIT to a non-canonical RIP or RSP.
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE, KSTACK, UCODE, USTACK } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import * as R from '../assembly/shared/exit-reasons.js';

const HLT = R.EXIT_REASON_HLT, CPUID = R.EXIT_REASON_CPUID;
const seg = (g: TestGuest, s: string) => ({
  sel: Number(g.m.vmread(`GUEST_${s}_SELECTOR`)), ar: Number(g.m.vmread(`GUEST_${s}_AR_BYTES`)),
  base: g.m.vmread(`GUEST_${s}_BASE`), limit: Number(g.m.vmread(`GUEST_${s}_LIMIT`)),
});
const msrs = (g: TestGuest, cs: number, esp: number | bigint, eip: number | bigint) => {
  g.m.vmwrite('GUEST_SYSENTER_CS', cs); g.m.vmwrite('GUEST_SYSENTER_ESP', BigInt(esp)); g.m.vmwrite('GUEST_SYSENTER_EIP', BigInt(eip));
};

describe.skipIf(!haveAssembler())('SYSENTER/SYSEXIT in 64-bit mode (SDM Vol. 2B SYSENTER, SYSEXIT)', () => {
  it('SYSENTER from CPL 3: CS = SYSENTER_CS & FFFCH, SS = CS + 8 (flat, DPL 0, 64-bit code), RSP/RIP from the MSRs, IF/RF cleared', () => {
    const g = new TestGuest();
    g.kernel('hlt');
    g.userState();
    g.user('mov rcx, 0x1111\nmov rdx, 0x2222\nsysenter');
    msrs(g, 0x0b, KSTACK - 0x100, KCODE); // RPL bits of the MSR are dropped
    g.m.vmwrite('GUEST_RFLAGS', 0x10202 | 0x8c5); // RF, IF, and status flags, which stay
    expect(g.run()).toBe(HLT);
    expect(g.rip).toBe(BigInt(KCODE));
    expect(seg(g, 'CS')).toEqual({ sel: 0x08, ar: 0xa09b, base: 0n, limit: 0xffffffff });
    expect(seg(g, 'SS')).toEqual({ sel: 0x10, ar: 0xc093, base: 0n, limit: 0xffffffff });
    expect(g.m.vmread('GUEST_RSP')).toBe(BigInt(KSTACK - 0x100));
    expect(g.m.vmread('GUEST_RFLAGS')).toBe(0x2n | 0x8c5n);
    expect([g.m.gpr('rcx'), g.m.gpr('rdx')]).toEqual([0x1111n, 0x2222n]); // nothing saved for the return
  });

  it('SYSENTER with IA32_SYSENTER_CS[15:2] = 0 is #GP(0): what Linux x86_64 without IA32_EMULATION leaves user space', () => {
    for (const cs of [0, 3]) {
      const g = new TestGuest();
      g.userState();
      g.user('sysenter');
      msrs(g, cs, KSTACK, KCODE);
      expect(g.run()).toBe(HLT); // the #GP stub
      expect(g.record()).toMatchObject({ vector: 13, error: 0n, count: 1 });
    }
  });

  it('SYSEXIT with REX.W at CPL 0: CS = SYSENTER_CS + 32 | 3, SS = CS + 8 (flat, DPL 3, 64-bit code), RSP = RCX, RIP = RDX, RFLAGS kept', () => {
    const g = new TestGuest();
    g.kernel(`mov rcx, ${USTACK - 8}\nmov rdx, ${UCODE}\n.byte 0x48, 0x0f, 0x35`); // sysexitq
    g.user('cpuid'); // exits unconditionally: the state right after SYSEXIT
    msrs(g, 0x08, 0, 0);
    g.m.vmwrite('GUEST_RFLAGS', 0x2c3);
    expect(g.run()).toBe(CPUID);
    expect(g.rip).toBe(BigInt(UCODE));
    expect(seg(g, 'CS')).toEqual({ sel: 0x2b, ar: 0xa0fb, base: 0n, limit: 0xffffffff });
    expect(seg(g, 'SS')).toEqual({ sel: 0x33, ar: 0xc0f3, base: 0n, limit: 0xffffffff });
    expect(g.m.vmread('GUEST_RSP')).toBe(BigInt(USTACK - 8));
    expect(g.m.vmread('GUEST_RFLAGS')).toBe(0x2c3n);
    // CPL 3 now: a privileged instruction faults.
    g.m.vmwrite('GUEST_RIP', g.rip + 2n);
    g.user('cpuid\nhlt');
    expect(g.run()).toBe(HLT);
    expect(g.record()).toMatchObject({ vector: 13, error: 0n });
  });

  it('SYSEXIT #GP(0): at CPL 3, with SYSENTER_CS = 0, to a non-canonical RIP (RDX) or RSP (RCX)', () => {
    const run = (setup: (g: TestGuest) => void) => {
      const g = new TestGuest();
      g.kernel(`mov rcx, ${USTACK}\nmov rdx, ${UCODE}\n.byte 0x48, 0x0f, 0x35`);
      msrs(g, 0x08, 0, 0);
      setup(g);
      expect(g.run()).toBe(HLT);
      return g.record();
    };
    expect(run((g) => { g.userState(); g.user('.byte 0x48, 0x0f, 0x35'); })).toMatchObject({ vector: 13, error: 0n });
    expect(run((g) => msrs(g, 0, 0, 0))).toMatchObject({ vector: 13, error: 0n });
    expect(run((g) => g.kernel('mov rcx, 0x1000\nmov rdx, 0x0000800000000000\n.byte 0x48, 0x0f, 0x35'))).toMatchObject({ vector: 13, error: 0n });
    expect(run((g) => g.kernel('mov rcx, 0x0000800000000000\nmov rdx, 0x1000\n.byte 0x48, 0x0f, 0x35'))).toMatchObject({ vector: 13, error: 0n });
    // Without REX.W SYSEXIT returns to compatibility mode, which this CPU does not model: #UD (sysenter.ts).
    expect(run((g) => g.kernel(`mov rcx, ${USTACK}\nmov rdx, ${UCODE}\n.byte 0x0f, 0x35`))).toMatchObject({ vector: 6 });
  });
});
