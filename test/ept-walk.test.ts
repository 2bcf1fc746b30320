// Property test: the CPU's EPT walk against an independent reference walk
// written from the SDM (Vol. 3C 29.3.2 translation, 29.3.3 violations and
// misconfigurations, Table 28-7 qualification bits 0-5), over random EPT
// hierarchies; plus the Done-when checks of the memory-virtualisation issue.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Machine } from '../src/machine.js';
import { TestGuest, UDATA } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';
import { EptTable, EPT_RWX } from '../src/xen/ept.js';
import { FrameAllocator } from '../src/xen/frames.js';

const PHYS = 0x00003ffffffff000n;

type Walk = { hpa: bigint } | { exit: 48 | 49; qualification: bigint };

/** The reference: SDM 29.3.2-29.3.3, written independently of assembly/ept.ts. */
function referenceWalk(read64: (a: number) => bigint, eptp: bigint, gpa: bigint, kind: 0 | 1 | 2): Walk {
  const accessBit = [1n, 2n, 4n][kind];
  let table = eptp & PHYS;
  let rwx = 7n;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const e = read64(Number(table + ((gpa >> shift) & 511n) * 8n));
    if ((e & 7n) === 0n) return { exit: 48, qualification: accessBit }; // not present: R/W/X of the translation are 0
    const isLeaf = level === 1 || ((level === 2 || level === 3) && ((e >> 7n) & 1n) === 1n);
    const misconfigured =
      (e & 3n) === 2n ||                                    // write without read
      ((e >> 46n) & 0x3fn) !== 0n ||                        // address bits beyond MAXPHYADDR (46)
      (level === 4 && ((e >> 7n) & 1n) === 1n) ||           // bit 7 is reserved in a PML4E
      (isLeaf && [2n, 3n, 7n].includes((e >> 3n) & 7n)) ||  // reserved memory types
      (isLeaf && level === 3 && ((e >> 12n) & 0x3ffffn) !== 0n) ||
      (isLeaf && level === 2 && ((e >> 12n) & 0x1ffn) !== 0n) ||
      (!isLeaf && ((e >> 3n) & 0xfn) !== 0n);               // bits 6:3 reserved in non-leaf entries
    if (misconfigured) return { exit: 49, qualification: 0n };
    rwx &= e & 7n;
    if (isLeaf) {
      if ((rwx & accessBit) === 0n) return { exit: 48, qualification: accessBit | (rwx << 3n) };
      const offBits = shift;
      const offMask = (1n << offBits) - 1n;
      return { hpa: (e & PHYS & ~offMask) | (gpa & offMask) };
    }
    table = e & PHYS;
  }
  throw new Error('unreachable');
}

describe('EPT walk: CPU vs reference over random hierarchies (SDM 29.3)', () => {
  it('agrees on translation, violation qualification and misconfiguration', () => {
    const m = Machine.createSync({ memMiB: 8 });
    const TABLES = [0x10000, 0x11000, 0x12000, 0x13000]; // PML4, PDPT, PD, PT
    const permArb = fc.constantFrom(0n, 1n, 3n, 4n, 5n, 7n, 2n, 6n);
    const entryArb = fc.record({
      perm: permArb,
      large: fc.boolean(),
      memType: fc.constantFrom(0n, 1n, 4n, 5n, 6n, 2n, 3n, 7n),
      rsvdHigh: fc.constantFrom(0n, 0n, 0n, 0n, 1n << 47n),
      lowJunk: fc.constantFrom(0n, 0n, 0n, 8n << 3n),   // sets bit 6 (reserved in non-leaf, ignore-PAT in leaf)
      frameBits: fc.bigInt({ min: 0n, max: 0x3ffn }),
      suppressVe: fc.boolean(),
    });
    fc.assert(fc.property(
      fc.bigInt({ min: 0n, max: (1n << 39n) - 1n }), fc.constantFrom(0, 1, 2), fc.array(entryArb, { minLength: 4, maxLength: 4 }),
      (gpa, kind, entries) => {
        m.fillPhys(0x10000, 0x4000, 0);
        const levels = [4, 3, 2, 1];
        levels.forEach((level, i) => {
          const x = entries[i];
          const next = i < 3 ? BigInt(TABLES[i + 1]) : (x.frameBits << 12n);
          let e = x.perm | (x.suppressVe ? 1n << 63n : 0n) | x.rsvdHigh | x.lowJunk;
          if (i === 3 || x.large) e |= x.memType << 3n;
          if (x.large && (level === 3 || level === 2)) e |= (1n << 7n) | (x.frameBits << 30n);
          else e |= next;
          if (level === 4 && x.large) e |= 1n << 7n;
          const idx = Number((gpa >> BigInt(12 + 9 * (level - 1))) & 511n);
          m.write64(TABLES[i] + idx * 8, e);
        });
        const eptp = BigInt(TABLES[0]) | 0x1en;
        const got = m.eptWalk(eptp, gpa, kind as 0 | 1 | 2);
        const want = referenceWalk((a) => m.read64(a), eptp, gpa, kind as 0 | 1 | 2);
        expect(got).toEqual(want);
      }), { numRuns: 3000, seed: 20171010 });
  });
});

describe.skipIf(!haveAssembler())('EPT views and VMFUNC at scale', () => {
  function guestWithViews(nViews: number) {
    const g = new TestGuest({ memMiB: 32 });
    const frames = new FrameAllocator(g.m, 0xc00);
    const views = Array.from({ length: nViews }, () => {
      const v = new EptTable(g.m, frames);
      v.map(0n, 0n, 8n << 20n, EPT_RWX, '2m');
      return v;
    });
    g.m.fillPhys(0xb00000, 4096, 0);
    views.forEach((v, i) => g.m.write64(0xb00000 + i * 8, v.eptp()));
    g.m.vmwrite('EPTP_LIST_ADDR', 0xb00000);
    g.m.vmwrite('VM_FUNCTION_CONTROL', 1);
    g.m.vmwrite('EPT_POINTER', views[0].eptp());
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 0x80000000);
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', (1 << 1) | (1 << 13));
    return g;
  }
  // A user program that hashes memory, switching EPT views every iteration when `switch` is on.
  const work = (sw: boolean, n: number) => `
    mov r12, ${n}
    xor r13, r13
    1:
    ${sw ? 'xor eax, eax\nmov rcx, r12\nand ecx, 3\nvmfunc' : ''}
    mov rbx, r12
    and rbx, 0xff8
    add r13, [${UDATA} + rbx]
    imul r13, r13, 31
    mov [${UDATA} + rbx], r13
    dec r12
    jnz 1b
    ${sw ? 'xor eax, eax\nxor ecx, ecx\nvmfunc' : ''}
    int3`;

  it('identical EPT views run a guest to the identical result, with thousands of VMFUNCs and zero VM exits', () => {
    const one = guestWithViews(1);
    one.userState(); one.user(work(false, 5000));
    const four = guestWithViews(4);
    four.userState(); four.user(work(true, 5000));
    // Exactly one VM exit each: the HLT of the INT3 stub at the end (HLT exiting is off, so 52 after idling).
    one.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 0x80000000 | (1 << 7));
    four.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 0x80000000 | (1 << 7));
    expect(one.run(10_000_000)).toBe(12);
    expect(four.run(10_000_000)).toBe(12); // 5,001 VMFUNCs, no exit before the final HLT
    expect(four.m.gpr('r13')).toBe(one.m.gpr('r13'));
    expect(four.m.fnv1a64(0x300000, 4096)).toBe(one.m.fnv1a64(0x300000, 4096));
    expect(four.m.vmread('EPTP_INDEX')).toBe(0n);
  });

  it('an index beyond the prepared views (an invalid list entry) exits with reason 59', () => {
    const g = guestWithViews(4);
    g.userState(); g.user('xor eax, eax\nmov ecx, 4\nvmfunc\nint3');
    expect(g.run()).toBe(59);
  });
});

describe.skipIf(!haveAssembler())('host page walk (Machine.translate)', () => {
  it('returns the guest-physical address through a non-identity EPT view, and sets no accessed flags', () => {
    const g = new TestGuest({ memMiB: 32 });
    const frames = new FrameAllocator(g.m, 0xc00);
    const v = new EptTable(g.m, frames);
    v.map(0n, 0n, 8n << 20n, EPT_RWX);
    v.setLeaf(0x300000n, (v.leaf(0x300000n) & ~0x00003ffffffff000n) | 0x900000n);
    g.m.vmwrite('EPT_POINTER', v.eptp());
    g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', 0x80000000 | (1 << 7));
    g.m.vmwrite('SECONDARY_VM_EXEC_CONTROL', 1 << 1);
    g.kernel('hlt');
    g.run(); // loads CR3 and the EPT pointer into the CPU
    const pde = g.m.read64(0x3000 + 8) & ~0x20n;
    g.m.write64(0x3000 + 8, pde); // clear A on the 2-4 MiB PDE
    expect(g.m.translate(0x300123n)).toBe(0x300123n);
    expect(g.m.translate(0x7ff000000000n)).toBeUndefined();
    expect(g.m.read64(0x3000 + 8)).toBe(pde);
  });
});
