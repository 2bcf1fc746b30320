// The host's in-place VMREAD/VMWRITE (src/machine.ts) against the CPU's own (assembly/vmcs.ts
// vmcsRead/vmcsWrite): for every field of Intel SDM Vol. 3C Appendix B, and every 64-bit field's
// high access (B.2-B.4), a value written either way reads back the same both ways -- 16- and
// 32-bit fields keep the low bits, a high access reads and writes bits 63:32 (31.3, VMREAD/VMWRITE).
import { describe, it, expect } from 'vitest';
import { Machine, VmxError } from '../src/machine.js';
import { VMCS_FIELDS } from '../src/vmcs.js';

interface CpuVmcs { vmread(enc: number): bigint; vmwrite(enc: number, v: bigint): number; vmfieldExists(enc: number): number }

describe('VMREAD/VMWRITE in place match the CPU\'s (SDM Vol. 3C 31.3, Appendix B)', () => {
  it('every field and high access, written by the host or by the CPU, reads the same both ways', () => {
    const m = Machine.createSync({ memMiB: 2 });
    const cpu = (m as unknown as { cpu: CpuVmcs }).cpu;
    const encs = Object.values(VMCS_FIELDS).flatMap((e) => ((e >> 13) & 3) === 1 ? [e, e | 1] : [e]).filter((e) => cpu.vmfieldExists(e));
    expect(encs.length).toBeGreaterThan(150);
    const patterns = [0xfedcba9876543210n, 0x1234_5678n, 0xffff_ffff_ffff_ffffn];
    for (const enc of encs) {
      const readOnly = ((enc >> 10) & 3) === 1;
      for (const p of patterns) {
        if (!readOnly) {
          m.vmwrite(enc, p);
          const cpuSees = BigInt.asUintN(64, cpu.vmread(enc));
          expect(m.vmread(enc), `0x${enc.toString(16)}`).toBe(cpuSees);
          expect(m.vmread32(enc)).toBe(Number(cpuSees & 0xffffffffn));
          m.vmwrite(enc, Number(p & 0xffffn));   // a number takes the 32-bit path
          expect(m.vmread(enc)).toBe(BigInt.asUintN(64, cpu.vmread(enc)));
        }
        // The CPU writes (read-only fields too: a VM exit does), the host reads.
        expect((cpu as unknown as { vmwrite(e: number, v: bigint): number }).vmwrite(enc, p)).toBe(readOnly ? 13 : 0);
        expect(m.vmread(enc)).toBe(BigInt.asUintN(64, cpu.vmread(enc)));
      }
    }
    // Negative numbers and BigInts are stored modulo 2^64, as VMWRITE's 64-bit operand.
    m.vmwrite(VMCS_FIELDS.GUEST_RIP, -1);
    expect(m.vmread(VMCS_FIELDS.GUEST_RIP)).toBe(0xffff_ffff_ffff_ffffn);
    m.vmwrite(VMCS_FIELDS.TSC_OFFSET, -5n);
    expect(m.vmread(VMCS_FIELDS.TSC_OFFSET)).toBe(BigInt.asUintN(64, -5n));
    expect(() => m.vmwrite(VMCS_FIELDS.VM_EXIT_REASON, 1)).toThrow(/read-only \(VM-instruction error 13\)/);
    expect(() => m.vmwrite(0x200e, 1)).toThrow(/unsupported VMCS component 0x200e \(VM-instruction error 12\)/);
    expect(() => m.vmread(0x200e)).toThrow(/VMREAD: unsupported VMCS component 0x200e/);
    expect(() => m.vmread(0x4001)).toThrow(VmxError);   // high access of a 32-bit field
    expect(() => m.vmread(0x10000)).toThrow(VmxError);  // reserved bits
  });

  it('the GPR save area: names and numbers, stored modulo 2^64; 32-bit access', () => {
    const m = Machine.createSync({ memMiB: 2 });
    m.setGpr('r9', -1);
    expect(m.gpr(9)).toBe(0xffff_ffff_ffff_ffffn);
    m.setGpr(0, 1n << 64n | 7n);
    expect(m.gpr('rax')).toBe(7n);
    expect(() => m.gpr('xyz')).toThrow(/unknown general-purpose register "xyz"/);
    // 32-bit access: the low half; a 32-bit write zero-extends (as a 32-bit destination in 64-bit mode).
    m.setGpr(3, 0x1234_5678_9abc_def0n);
    expect(m.gpr32(3)).toBe(0x9abc_def0);
    m.setGpr32(3, 0xffff_fffe);
    expect(m.gpr('rbx')).toBe(0xffff_fffen);
  });
});
