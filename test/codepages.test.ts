// Decoded code tracked by machine page (assembly/codepages.ts; after v86's jit.rs page tracking):
// blocks are found by the machine address of their first byte, so EPT views that map the same
// frame share them and VMFUNC (SDM Vol. 3C 26.5.6.3, EPTP switching) decodes nothing again; a write
// drops only the blocks on the frame written (self-modifying code, SDM Vol. 3A 11.6); and fetch
// permission is still checked per view (EPT violation on fetch, SDM Vol. 3C 29.3.3.2).
import { describe, it, expect } from 'vitest';
import { TestGuest, KCODE } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { EptTable, EPT_R, EPT_W, EPT_RWX } from '../src/xen/ept.js';
import { FrameAllocator } from '../src/xen/frames.js';

import { EXIT_REASON_HLT as HLT, EXIT_REASON_EPT_VIOLATION as EPT_VIOLATION } from '../assembly/shared/exit-reasons.js';
import { SECONDARY_EXEC_ENABLE_EPT as SEC_EPT, SECONDARY_EXEC_ENABLE_VMFUNC as SEC_VMFUNC } from '../assembly/shared/vmx-controls.js';
const LIST = 0xb00000;
const PAGE_B = KCODE + 0x1000, PAGE_C = KCODE + 0x2000;

/** Two EPT views over the same identity map (view 1's permissions adjustable); VMFUNC leaf 0 on. */
function twoViews() {
  const g = new TestGuest({ memMiB: 32 });
  const frames = new FrameAllocator(g.m, 0xc00);
  const view0 = new EptTable(g.m, frames), view1 = new EptTable(g.m, frames);
  view0.map(0n, 0n, 8n << 20n, EPT_RWX);
  view1.map(0n, 0n, 8n << 20n, EPT_RWX);
  g.m.fillPhys(LIST, 4096, 0);
  g.m.write64(LIST, view0.eptp());
  g.m.write64(LIST + 8, view1.eptp());
  g.m.vmwrite('EPT_POINTER', view0.eptp());
  g.m.vmwrite('EPTP_LIST_ADDR', LIST);
  g.m.vmwrite('VM_FUNCTION_CONTROL', 1);
  g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', (1 << 7) | 0x80000000);
  g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', SEC_EPT | SEC_VMFUNC);
  return { g, view0, view1 };
}

/** Runs again from KCODE with the code already decoded; returns the instructions decoded meanwhile. */
function rerun(g: TestGuest, regs: Record<string, number> = {}): { exit: number; decoded: bigint } {
  g.m.vmwrite('GUEST_RIP', KCODE);
  g.m.vmwrite('GUEST_RSP', 0x20000);
  for (const [r, v] of Object.entries(regs)) g.m.setGpr(r as 'r8', v);
  const d0 = g.m.decodes;
  const exit = g.run();
  return { exit, decoded: g.m.decodes - d0 };
}

describe.skipIf(!haveAssembler())('decoded code by machine page (SDM Vol. 3A 11.6, Vol. 3C 26.5.6.3)', () => {
  it('VMFUNC to a view that maps the same frames decodes nothing again', () => {
    const { g } = twoViews();
    g.kernel(`
      top: call sub               # in view 0
      xor eax, eax
      mov ecx, 1
      vmfunc                      # view 1: the same frames
      call sub                    # the same block, now fetched through view 1
      xor ecx, ecx
      vmfunc                      # back to view 0
      dec r8
      jnz top
      hlt
      sub: inc r9
      ret`);
    g.m.setGpr('r8', 1);
    expect(g.run()).toBe(HLT);
    const again = rerun(g, { r8: 50, r9: 0 });
    expect(again.exit).toBe(HLT);
    expect(g.m.gpr('r9')).toBe(100n);
    expect(again.decoded).toBe(0n); // 100 view switches, every block still the one decoded before
  });

  it('a guest write to one code page drops only the blocks on that page', () => {
    const g = new TestGuest();
    g.load(PAGE_B, 'mov eax, 1\nret');
    g.load(PAGE_C, 'mov ebx, 2\nret');
    g.kernel(`
      call ${PAGE_B}
      call ${PAGE_C}
      mov byte ptr [${PAGE_C + 0x800}], 0x90   # data on page C's frame
      call ${PAGE_B}
      call ${PAGE_C}
      hlt`);
    expect(g.run()).toBe(HLT);
    const again = rerun(g);
    expect(again.exit).toBe(HLT);
    // Only page C's block (mov ebx, 2; ret) is decoded again, after the write; pages A and B stay.
    expect(again.decoded).toBe(2n);
  });

  it('a host write to one code page drops only the blocks on that page, and the new bytes run', () => {
    const g = new TestGuest();
    g.load(PAGE_C, 'mov ebx, 2\nret');
    g.kernel(`call ${PAGE_C}\nmov ecx, ebx\nhlt`);
    expect(g.run()).toBe(HLT);
    expect(g.m.gpr('rcx')).toBe(2n);
    g.load(PAGE_C, 'mov ebx, 7\nret');
    const again = rerun(g);
    expect(again.exit).toBe(HLT);
    expect(g.m.gpr('rcx')).toBe(7n);
    expect(again.decoded).toBe(2n);
  });

  it('self-modifying code through a linear alias of the frame runs the new bytes', () => {
    const g = new TestGuest();
    g.m.write64(0x3000 + 4 * 8, 0x83n); // PD[4]: linear 0x800000 -> machine 0 (2 MiB, RW): an alias
    g.load(PAGE_C, 'mov ebx, 2\nret');
    g.kernel(`
      call ${PAGE_C}
      mov r8, rbx
      mov byte ptr [${0x800000 + PAGE_C + 1}], 5   # patch the immediate through the alias
      call ${PAGE_C}
      hlt`);
    expect(g.run()).toBe(HLT);
    expect(g.m.gpr('r8')).toBe(2n);
    expect(g.m.gpr('rbx')).toBe(5n);
  });

  it('a view where the frame is not executable faults on fetch, though another view decoded the code', () => {
    const { g, view1 } = twoViews();
    view1.setAccess(BigInt(PAGE_C), EPT_R | EPT_W);
    g.load(PAGE_C, 'mov ebx, 2\nret');
    g.kernel(`
      call ${PAGE_C}              # decoded and run in view 0
      xor eax, eax
      mov ecx, 1
      vmfunc
      call ${PAGE_C}              # view 1 may not execute it
      hlt`);
    expect(g.run()).toBe(EPT_VIOLATION);
    expect(g.m.vmread('EXIT_QUALIFICATION') & 0x7n).toBe(0x4n); // an instruction fetch
    expect(g.m.vmread('GUEST_PHYSICAL_ADDRESS')).toBe(BigInt(PAGE_C));
    expect(g.rip).toBe(BigInt(PAGE_C));
    expect(g.m.vmread('EPTP_INDEX')).toBe(1n);
  });

  it('a view where the page holding the VMFUNC is not executable faults on the next instruction', () => {
    const { g, view1 } = twoViews();
    view1.setAccess(BigInt(KCODE), EPT_R | EPT_W);
    g.kernel('xor eax, eax\nmov ecx, r8d\nvmfunc\nnop\nhlt');
    g.m.setGpr('r8', 0);
    expect(g.run()).toBe(HLT); // VMFUNC to view 0 itself: the NOP's block is decoded and cached
    const again = rerun(g, { r8: 1 });
    expect(again.exit).toBe(EPT_VIOLATION);
    expect(again.decoded).toBe(0n);
    expect(g.m.vmread('EXIT_QUALIFICATION') & 0x7n).toBe(0x4n);
    expect(g.rip).toBe(BigInt(KCODE + 8)); // the NOP after the 2+3+3 bytes, not retired
  });

  // A routine whose block runs from the end of page B into page C: mov eax, 1 (5 bytes at
  // 0x11ffa), mov ebx, 2 (0x11fff-0x12003, its immediate on page C), ret.
  const CROSS = PAGE_C - 6;

  it('a write to the second page of a block that crosses pages drops the block', () => {
    const g = new TestGuest();
    g.load(CROSS, 'mov eax, 1\nmov ebx, 2\nret');
    g.kernel(`
      call ${CROSS}
      mov r8, rbx
      mov byte ptr [${PAGE_C}], 9   # the immediate of mov ebx, on the block's second page
      call ${CROSS}
      hlt`);
    expect(g.run()).toBe(HLT);
    expect(g.m.gpr('r8')).toBe(2n);
    expect(g.m.gpr('rbx')).toBe(9n);
  });

  it('a cached block that crosses into a page this view may not execute faults at the crossing instruction', () => {
    const { g, view1 } = twoViews();
    view1.setAccess(BigInt(PAGE_C), EPT_R | EPT_W);
    g.load(CROSS, 'mov eax, 1\nmov ebx, 2\nret');
    g.kernel(`
      call ${CROSS}               # decoded in view 0, both pages
      xor eax, eax
      mov ecx, 1
      vmfunc
      call ${CROSS}               # view 1: page B executable, page C not
      hlt`);
    expect(g.run()).toBe(EPT_VIOLATION);
    expect(g.m.vmread('EXIT_QUALIFICATION') & 0x7n).toBe(0x4n);
    expect(g.m.vmread('GUEST_PHYSICAL_ADDRESS')).toBe(BigInt(PAGE_C));
    expect(g.rip).toBe(BigInt(CROSS + 5)); // mov eax, 1 retired; mov ebx faults
    expect(g.m.gpr('rax')).toBe(1n);
  });
});
