// EPT, VMFUNC and #VE against the SDM (Vol. 3C 29.3 EPT, Table 28-7 exit
// qualification, 26.5.6 VM functions, 26.5.7 / 27.5.2 virtualization exceptions).
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE, UCODE, UDATA, IDT } from './helpers/guest.js';
import { haveAssembler, asm } from './helpers/asm.js';
import { EptTable, EPT_R, EPT_W, EPT_X, EPT_RWX, EPT_SUPPRESS_VE, EPT_ACCESSED, EPT_DIRTY } from '../src/xen/ept.js';
import { FrameAllocator } from '../src/xen/frames.js';
import { OP } from '../src/cpu-ops.js';

import {
  EXIT_REASON_EPT_VIOLATION as EPT_VIOLATION, EXIT_REASON_EPT_MISCONFIG as EPT_MISCONFIG, EXIT_REASON_VMFUNC as VMFUNC_EXIT,
  EXIT_REASON_HLT as HLT, EXIT_REASON_EXCEPTION_NMI as EXCEPTION,
} from '../assembly/shared/exit-reasons.js';
import {
  SECONDARY_EXEC_ENABLE_EPT as SEC_EPT, SECONDARY_EXEC_ENABLE_VMFUNC as SEC_VMFUNC, SECONDARY_EXEC_EPT_VIOLATION_VE as SEC_VE,
} from '../assembly/shared/vmx-controls.js';
const LIST = 0xb00000, VE_INFO = 0xb01000;

/** A TestGuest whose guest-physical memory goes through an identity EPT (4 KiB pages for the first 8 MiB). */
function eptGuest(opts: { ad?: boolean; secondary?: number } = {}) {
  const g = new TestGuest({ memMiB: 32 });
  const frames = new FrameAllocator(g.m, 0xc00); // tables from 12 MiB up
  const view0 = new EptTable(g.m, frames);
  view0.map(0n, 0n, 8n << 20n, EPT_RWX);
  g.m.vmwrite('EPT_POINTER', view0.eptp(opts.ad));
  g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000);
  g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT | (opts.secondary ?? 0));
  return { g, frames, view0 };
}

describe.skipIf(!haveAssembler())('EPT (SDM 29.3)', () => {
  // [description, EPT permissions of the data page, instruction, expected qualification]
  // [description, EPT permissions of the data page, instruction, expected qualification, guest RIP at the exit]
  const cases: [string, bigint, string, bigint, number][] = [
    ['read of a write/execute-less page', EPT_X, 'mov rax, [rbx]', 0x1n | (4n << 3n) | 0x180n, KCODE + 7],
    ['write to a read-only page', EPT_R | EPT_X, 'mov [rbx], rax', 0x2n | (5n << 3n) | 0x180n, KCODE + 7],
    ['fetch from a non-executable page', EPT_R | EPT_W, 'call rbx', 0x4n | (3n << 3n) | 0x180n, 0x300000],
    ['read of a not-present page', 0n, 'mov rax, [rbx]', 0x1n | 0x180n, KCODE + 7],
  ];
  it.each(cases)('violation: %s -> exit 48 with the Table 28-7 qualification', (_d, perms, insn, qual, rip) => {
    const { g, view0 } = eptGuest();
    view0.setAccess(0x300000n, perms);
    g.kernel(`mov rbx, 0x300000\n${insn}\nhlt`);
    expect(g.run()).toBe(EPT_VIOLATION);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(qual);
    expect(g.m.vmread('GUEST_PHYSICAL_ADDRESS')).toBe(0x300000n);
    expect(g.m.vmread('GUEST_LINEAR_ADDRESS')).toBe(0x300000n);
    expect(g.rip).toBe(BigInt(rip)); // the faulting access's instruction, not retired
  });

  it('violation during the guest page walk: bit 7 set, bit 8 clear, GPA of the paging-structure entry', () => {
    const { g, view0 } = eptGuest();
    view0.setAccess(0x3000n, 0n); // the guest's page directory is not readable through EPT
    g.kernel('mov rax, [0x300000]\nhlt');
    g.m.flushTlb();
    // The kernel's own code fetch walks the same PD: the first access faults on it.
    expect(g.run()).toBe(EPT_VIOLATION);
    const q = g.m.vmread('EXIT_QUALIFICATION');
    expect(q & 0x180n).toBe(0x80n);
    expect(g.m.vmread('GUEST_PHYSICAL_ADDRESS') & ~0xfffn).toBe(0x3000n);
  });

  it.each([
    ['write without read', (v: EptTable) => v.setAccess(0x300000n, EPT_W)],
    ['reserved memory type 2', (v: EptTable) => v.setLeaf(0x300000n, (v.leaf(0x300000n) & ~0x38n) | (2n << 3n))],
    ['reserved address bit 51', (v: EptTable) => v.setLeaf(0x300000n, v.leaf(0x300000n) | (1n << 51n))],
  ])('misconfiguration: %s -> exit 49 with the GPA (SDM 29.3.3.1)', (_d, corrupt) => {
    const { g, view0 } = eptGuest({ secondary: SEC_VE });
    corrupt(view0);
    g.m.vmwrite('VIRT_EXCEPTION_INFO', VE_INFO);
    g.kernel('mov rax, [0x300008]\nhlt');
    expect(g.run()).toBe(EPT_MISCONFIG); // never a #VE
    expect(g.m.vmread('GUEST_PHYSICAL_ADDRESS')).toBe(0x300008n);
  });

  it('2 MiB and 1 GiB EPT pages translate with the page offset', () => {
    const g = new TestGuest({ memMiB: 32 });
    const frames = new FrameAllocator(g.m, 0xc00);
    const v = new EptTable(g.m, frames);
    v.map(0n, 0n, 1n << 30n, EPT_RWX, '1g');
    g.m.vmwrite('EPT_POINTER', v.eptp());
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000);
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT);
    g.m.write64(0x300010, 0x1122334455667788n);
    g.kernel('mov rax, [0x300010]\nhlt');
    expect(g.run()).toBe(HLT);
    expect(g.m.gpr('rax')).toBe(0x1122334455667788n);
    // Remap guest 2-4 MiB onto machine 16-18 MiB with one 2 MiB entry of a fresh table.
    const g2 = new TestGuest({ memMiB: 32 });
    const f2 = new FrameAllocator(g2.m, 0xc00);
    const v2 = new EptTable(g2.m, f2);
    v2.map(0n, 0n, 2n << 20n, EPT_RWX, '2m');
    v2.map(2n << 20n, 16n << 20n, 2n << 20n, EPT_RWX, '2m');
    v2.map(4n << 20n, 4n << 20n, 4n << 20n, EPT_RWX, '2m');
    g2.m.write64((16 << 20) + 0x100010, 0xabcdn);
    g2.m.vmwrite('EPT_POINTER', v2.eptp());
    g2.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000);
    g2.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT);
    g2.kernel('mov rax, [0x300010]\nhlt');
    expect(g2.run()).toBe(HLT);
    expect(g2.m.gpr('rax')).toBe(0xabcdn);
  });

  it('accessed and dirty flags with EPTP bit 6; guest paging-structure accesses count as writes (SDM 29.3.5)', () => {
    const { g, view0 } = eptGuest({ ad: true });
    g.kernel('mov rax, [0x300000]\nmov [0x301000], rax\nhlt');
    expect(g.run()).toBe(HLT);
    expect(view0.leaf(0x300000n) & (EPT_ACCESSED | EPT_DIRTY)).toBe(EPT_ACCESSED);
    expect(view0.leaf(0x301000n) & (EPT_ACCESSED | EPT_DIRTY)).toBe(EPT_ACCESSED | EPT_DIRTY);
    expect(view0.leaf(0x3000n) & EPT_DIRTY).toBe(EPT_DIRTY); // the guest PD was "written" by the walk
    // A read-only paging-structure page then violates as a write.
    const { g: g2, view0: w } = eptGuest({ ad: true });
    w.setAccess(0x3000n, EPT_R | EPT_X);
    g2.kernel('hlt');
    expect(g2.run()).toBe(EPT_VIOLATION);
    expect(g2.m.vmread('EXIT_QUALIFICATION') & 0x3n).toBe(0x2n);
  });
});

/** Two views: view 1 maps guest page 0x300000 onto machine 0x310000 instead. */
function vmfuncGuest(opts: { ve?: boolean } = {}) {
  const { g, frames, view0 } = eptGuest({ secondary: SEC_VMFUNC | (opts.ve ? SEC_VE : 0) });
  const view1 = new EptTable(g.m, frames);
  view1.map(0n, 0n, 8n << 20n, EPT_RWX);
  view1.setLeaf(0x300000n, (view1.leaf(0x300000n) & ~0x00003ffffffff000n) | 0x310000n);
  g.m.fillPhys(LIST, 4096, 0);
  g.m.write64(LIST, view0.eptp());
  g.m.write64(LIST + 8, view1.eptp());
  g.m.vmwrite('EPTP_LIST_ADDR', LIST);
  g.m.vmwrite('VM_FUNCTION_CONTROL', 1);
  g.m.write64(0x300000, 0xaaaan);
  g.m.write64(0x310000, 0xbbbbn);
  return { g, view0, view1 };
}

describe.skipIf(!haveAssembler())('VMFUNC (SDM 26.5.6)', () => {
  it('leaf 0 switches the EPTP to list entry ECX without a VM exit; TLB entries stay tagged by view', () => {
    const { g, view1 } = vmfuncGuest();
    g.userState();
    g.user(`
      mov r8, [${UDATA}]          # view 0 (warms the TLB)
      xor eax, eax
      mov ecx, 1
      vmfunc                      # view 1: same linear page, other machine frame
      mov r9, [${UDATA}]
      xor ecx, ecx
      vmfunc                      # back to view 0, no flush needed
      mov r10, [${UDATA}]
      mov ecx, 1
      vmfunc
      mov r11, [${UDATA}]
      int3`);
    g.run();
    expect([g.m.gpr('r8'), g.m.gpr('r9'), g.m.gpr('r10'), g.m.gpr('r11')]).toEqual([0xaaaan, 0xbbbbn, 0xaaaan, 0xbbbbn]);
    expect(g.m.vmread('EPT_POINTER')).toBe(view1.eptp());
    expect(g.m.vmread('EPTP_INDEX')).toBe(1n);
    expect(g.record().vector).toBe(3); // ran at CPL 3 with no exit until the INT3 stub's HLT
  });

  it.each([
    ['VM-function control bit 0 clear', (g: TestGuest) => g.m.vmwrite('VM_FUNCTION_CONTROL', 0), 0, 1],
    ['ECX >= 512', () => {}, 0, 512],
    ['an invalid EPTP in the list (all zero)', () => {}, 0, 7],
    ['a function not enabled (EAX = 1)', () => {}, 1, 0],
  ])('exit 59 with EPTP and EPTP index unchanged: %s', (_d, prep, eax, ecx) => {
    const { g, view0 } = vmfuncGuest();
    prep(g);
    g.kernel(`mov eax, ${eax}\nmov ecx, ${ecx}\nvmfunc\nhlt`);
    expect(g.run()).toBe(VMFUNC_EXIT);
    expect(g.m.vmread('EPT_POINTER')).toBe(view0.eptp());
    expect(g.m.vmread('EPTP_INDEX')).toBe(0n);
    expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0n);
    expect(g.rip).toBe(BigInt(KCODE + 10));
  });

  it.each([
    ['"enable VM functions" clear', SEC_EPT, 0],
    ['EAX >= 64', SEC_EPT | SEC_VMFUNC, 64],
  ])('#UD (which beats the exit): %s', (_d, sec, eax) => {
    const { g } = vmfuncGuest();
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', sec);
    g.kernel(`mov eax, ${eax}\nxor ecx, ecx\nvmfunc\nhlt`);
    expect(g.run()).toBe(HLT);
    expect(g.record().vector).toBe(6);
  });

  it('costs the cost model\'s cycles in virtual time, visible to RDTSC', () => {
    const { g } = vmfuncGuest();
    g.m.setCost(OP.VMFUNC, 130);
    g.kernel('rdtsc\nmov r8, rax\nxor eax, eax\nmov ecx, 1\nvmfunc\nrdtsc\nsub rax, r8\nhlt');
    expect(g.run()).toBe(HLT);
    // rdtsc(1) + mov(1) + xor(1) + mov(1) + vmfunc(130) since the first read
    expect(g.m.gpr('rax')).toBe(134n);
  });

  it('the decoder classifies VMFUNC and RDTSC as the cost model expects', () => {
    const { g } = vmfuncGuest();
    expect(g.m.decodeLength(asm('vmfunc'))).toBe(3);
    expect(g.m.decodeLength(asm('rdtsc'))).toBe(2);
    expect(OP.VMFUNC).toBe(101);
  });
});

describe.skipIf(!haveAssembler())('#VE (SDM 26.5.7, 27.5.2)', () => {
  function veGuest() {
    const r = vmfuncGuest({ ve: true });
    r.g.m.fillPhys(VE_INFO, 4096, 0);
    r.g.m.vmwrite('VIRT_EXCEPTION_INFO', VE_INFO);
    r.view0.setAccess(0x301000n, EPT_R); // writes to guest page 0x301000 violate
    return r;
  }
  const prog = 'mov rbx, 0x301000\nmov qword ptr [rbx + 8], 5\nhlt';

  it('a violation with the control on, suppress-#VE clear and the area free becomes vector 20', () => {
    const { g } = veGuest();
    g.kernel(prog);
    expect(g.run()).toBe(HLT); // the vector-20 stub's HLT
    expect(g.record()).toMatchObject({ vector: 20, error: 0n });
    const info = g.m.readPhys(VE_INFO, 40);
    const dv = new DataView(info.buffer);
    expect(dv.getUint32(0, true)).toBe(48);
    expect(dv.getUint32(4, true)).toBe(0xffffffff);
    expect(dv.getBigUint64(8, true)).toBe(0x2n | (1n << 3n) | 0x180n);
    expect(dv.getBigUint64(16, true)).toBe(0x301008n);
    expect(dv.getBigUint64(24, true)).toBe(0x301008n);
    expect(dv.getUint16(32, true)).toBe(0);
    // The #VE frame's RIP is the faulting instruction (a fault, no error code).
    const sp = Number(g.m.vmread('GUEST_RSP'));
    expect(g.m.read64(sp)).toBe(BigInt(KCODE + 7));
  });

  it.each([
    ['the busy word is not 0', (g: TestGuest) => g.m.write32(VE_INFO + 4, 0xffffffff)],
    ['the entry\'s suppress-#VE bit is set', (_g: TestGuest, v: EptTable) => v.setAccess(0x301000n, EPT_R, true)],
    ['the control is off', (g: TestGuest) => g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT | SEC_VMFUNC)],
  ])('exit 48 instead when %s', (_d, prep) => {
    const { g, view0 } = veGuest();
    prep(g, view0);
    g.kernel(prog);
    expect(g.run()).toBe(EPT_VIOLATION);
  });

  // Every combination of the three conditions (SDM 26.5.7.1): #VE only when all allow it.
  const combos: [boolean, boolean, boolean][] = [];
  for (const control of [false, true]) for (const suppress of [false, true]) for (const busy of [false, true]) combos.push([control, suppress, busy]);
  it.each(combos)('control %s, suppress-#VE %s, busy word set %s', (control, suppress, busy) => {
    const { g, view0 } = veGuest();
    if (!control) g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT | SEC_VMFUNC);
    view0.setAccess(0x301000n, EPT_R, suppress);
    if (busy) g.m.write32(VE_INFO + 4, 0xffffffff);
    g.kernel(prog);
    const ve = control && !suppress && !busy;
    expect(g.run()).toBe(ve ? HLT : EPT_VIOLATION);
    if (ve) expect(g.record().vector).toBe(20);
    else expect(g.m.vmread('EXIT_QUALIFICATION')).toBe(0x2n | (1n << 3n) | 0x180n);
  });

  it('a violation during event delivery exits with IDT-vectoring information, never a #VE', () => {
    const { g, view0 } = veGuest();
    view0.setAccess(0x1f000n, EPT_R); // the top page of the kernel stack
    g.kernel('int3');
    expect(g.run()).toBe(EPT_VIOLATION);
    expect(g.m.vmread('IDT_VECTORING_INFO_FIELD')).toBe(0x80000603n); // valid, software exception, vector 3
  });

  it('exception bitmap bit 20 turns the #VE into an exception exit', () => {
    const { g } = veGuest();
    g.m.vmwrite('EXCEPTION_BITMAP', 1 << 20);
    g.kernel(prog);
    expect(g.run()).toBe(EXCEPTION);
    expect(g.m.vmread('VM_EXIT_INTR_INFO')).toBe(0x80000314n);
  });

  it('the EPTP index in the information area follows VMFUNC', () => {
    const { g, view1 } = veGuest();
    view1.setAccess(0x301000n, EPT_R);
    g.kernel(`xor eax, eax\nmov ecx, 1\nvmfunc\n${prog}`);
    expect(g.run()).toBe(HLT);
    expect(g.m.readPhys(VE_INFO + 32, 2)[0]).toBe(1);
  });
});
