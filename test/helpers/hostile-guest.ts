// A hostile test guest for the isolation tests: a tiny 64-bit image that issues a list of
// hypercalls the host generated with a seed (test/diff/gen.ts's Rng) -- every HVMOP_altp2m
// sub-operation with random and extreme gfns, view ids, access values, pad fields, versions and
// list pointers, random other hypercalls and hvm_ops, and a flood of view-0 set_mem_access calls
// that needs more EPT tables than the p2m pool has -- and records each result. After each call
// it returns to EPT view 0 with VMFUNC. The calls never name the guest's own working set (its
// code, stack, page tables and call lists), so the run lasts to the end; everything else is fair game.
//
// Guest-physical layout (RAM 8 MiB, mapped linear = physical by the boot loader's 2 MiB pages):
//   0x100000 code; 0x400000 call records (nr, rdi, rsi, rdx: 32 bytes each); 0x440000 the
//   xen_hvm_altp2m_op structures (80 bytes each); 0x500000 results (8 bytes each);
//   0x600000-0x780000 pfn lists (u64); 0x780000-0x800000 access lists (u8).
import { Rng } from '../diff/gen.js';
import { asm } from './asm.js';

export const HOSTILE_MEM_MIB = 8;
export const CALLS = 0x400000, STRUCTS = 0x440000, RESULTS = 0x500000, PFNS = 0x600000, ACCESSES = 0x780000;
const RAM_PAGES = (HOSTILE_MEM_MIB << 20) / 4096;
/** RAM pages the guest does not use: the only RAM gfns the calls name. */
const FREE_GFNS = [[0x80, 0x100], [0x200, 0x400]] as const;
const HVM_OP = 34, SCHED_OP = 29, HVMOP_ALTP2M = 25;
const INVALID_GFN = 0xffffffffffffffffn;

export interface HostileCall { nr: bigint; rdi: bigint; rsi: bigint; rdx: bigint; struct?: Uint8Array; what: string }

export interface HostilePlan { calls: HostileCall[]; pfns: Uint8Array; accesses: Uint8Array; image: Uint8Array }

function gfn(r: Rng): bigint {
  const [lo, hi] = r.pick(FREE_GFNS);
  return r.weighted<() => bigint>([
    [() => BigInt(r.range(lo, hi - 1)), 30],                      // RAM the guest does not use
    [() => BigInt(RAM_PAGES + r.int(4)), 10],                     // just past RAM
    [() => BigInt(r.u32() & 0xfffff), 10],                        // below 4 GiB
    [() => (BigInt(r.u32()) << 4n) | BigInt(r.int(16)), 10],      // anywhere in the 36-bit space
    [() => (1n << 36n) - 1n - BigInt(r.int(2)), 5],               // the EPT's last gfns
    [() => (1n << 36n) + BigInt(r.int(2)), 5],                    // just past the EPT's width
    [() => r.u64(), 10],                                          // anything
    [() => INVALID_GFN, 5],
    [() => BigInt(r.int(1 << 18)) << 18n, 3],                    // one per GiB: costs tables
  ])();
}

function view(r: Rng): number {
  return r.weighted<() => number>([[() => r.int(4), 50], [() => r.range(4, 20), 20], [() => r.u32() & 0xffff, 20], [() => 0xffff, 10]])();
}

function small(r: Rng, max: number): number { return r.chance(0.85) ? r.int(max) : r.u32(); }

function altp2mStruct(r: Rng): { s: Uint8Array; what: string } {
  const s = new Uint8Array(80), dv = new DataView(s.buffer);
  const cmd = r.chance(0.9) ? r.range(1, 16) : r.u32();
  dv.setUint32(0, r.chance(0.93) ? 1 : r.u32(), true);
  dv.setUint32(4, cmd, true);
  dv.setUint16(8, r.weighted<number>([[0x7ff0, 90], [1, 5], [r.u32() & 0xffff, 5]]), true);
  if (r.chance(0.05)) dv.setUint16(10, r.u32() & 0xffff, true);
  if (r.chance(0.05)) dv.setUint32(12, r.u32(), true);
  dv.setUint16(16, cmd === 2 && r.chance(0.9) ? 1 : view(r), true);   // set_domain_state: mostly "on"
  dv.setUint16(18, small(r, 13) & 0xffff, true);                  // access / pad / default access / suppress_ve
  if (r.chance(0.08)) dv.setUint32(20, r.u32(), true);            // pads
  dv.setBigUint64(24, gfn(r), true);
  dv.setBigUint64(32, gfn(r), true);
  if (cmd === 8 && r.chance(0.5)) {                             // change_gfn between pages the guest does not use
    const [lo, hi] = r.pick(FREE_GFNS);
    dv.setUint16(16, r.int(3), true); dv.setUint16(18, 0, true); dv.setUint32(20, 0, true);
    dv.setBigUint64(24, BigInt(r.range(lo, hi - 1)), true); dv.setBigUint64(32, BigInt(r.range(lo, hi - 1)), true);
  }
  if (cmd === 9) {                                                // set_mem_access_multi: nr, opaque, lists
    dv.setUint32(20, r.weighted<number>([[r.int(200), 70], [64, 5], [65, 5], [0, 5], [0xffffffff, 5], [r.u32(), 10]]), true);
    dv.setBigUint64(24, r.chance(0.9) ? 0n : BigInt(r.int(300)), true);
    dv.setBigUint64(32, r.chance(0.9) ? BigInt(PFNS + 8 * r.int(0x30000 - 300)) : r.u64(), true);
    dv.setBigUint64(40, r.chance(0.9) ? BigInt(ACCESSES + r.int(0x80000 - 300)) : r.u64(), true);
    if (r.chance(0.2)) dv.setUint16(16, r.int(3), true);            // a view that likely exists
  }
  return { s, what: `altp2m cmd ${cmd}` };
}

/** The seeded plan: `n` random calls, then `flood` set_mem_access calls on view 0, one per GiB. */
export function hostilePlan(seed: number, n: number, flood: number): HostilePlan {
  if (n + flood > (STRUCTS - CALLS) / 32) throw new RangeError(`at most ${(STRUCTS - CALLS) / 32} calls fit the guest's call list`);
  const r = new Rng(seed, 12);
  const calls: HostileCall[] = [];
  const structAddr = (i: number) => BigInt(STRUCTS + i * 80);
  for (let i = 0; i < n; i++) {
    const kind = r.weighted<string>([['altp2m', 80], ['hvm_op', 8], ['hypercall', 8], ['badptr', 4]]);
    if (kind === 'altp2m' || kind === 'badptr') {
      const { s, what } = altp2mStruct(r);
      calls.push({ nr: BigInt(HVM_OP), rdi: BigInt(HVMOP_ALTP2M), rsi: kind === 'badptr' ? r.u64() : structAddr(calls.length), rdx: 0n, struct: s, what });
    } else if (kind === 'hvm_op') {
      const sub = r.weighted<bigint>([[BigInt(r.int(40)), 60], [0x4001n, 10], [r.u64(), 30]]);
      calls.push({ nr: BigInt(HVM_OP), rdi: sub, rsi: r.chance(0.5) ? r.u64() : BigInt(r.int(0x100)), rdx: r.u64(), what: `hvm_op ${sub}` });
    } else {
      let nr = r.chance(0.7) ? BigInt(r.int(48)) : r.u64();
      if (nr === BigInt(SCHED_OP)) nr = 1000n;                     // shutting down would end the test early
      calls.push({ nr, rdi: r.chance(0.5) ? BigInt(r.int(8)) : r.u64(), rsi: r.u64(), rdx: BigInt(r.int(0x100)), what: `hypercall ${nr}` });
    }
  }
  for (let i = 1; i <= flood; i++) {
    const s = new Uint8Array(80), dv = new DataView(s.buffer);
    dv.setUint32(0, 1, true); dv.setUint32(4, 7, true); dv.setUint16(8, 0x7ff0, true);
    dv.setUint16(18, 7, true); dv.setBigUint64(24, BigInt(i) << 18n, true);
    calls.push({ nr: BigInt(HVM_OP), rdi: BigInt(HVMOP_ALTP2M), rsi: structAddr(calls.length), rdx: 0n, struct: s, what: 'flood' });
  }
  // The lists' first three quarters hold gfns and access values that pass (RAM the guest does not
  // use, or just past RAM), so long lists run into set_mem_access_multi's continuation; the rest is wild.
  const pfns = new Uint8Array(ACCESSES - PFNS), pv = new DataView(pfns.buffer);
  const clean = (o: number, len: number) => o < (len * 3) / 4;
  for (let o = 0; o < pfns.length; o += 8) {
    const [lo, hi] = r.pick(FREE_GFNS);
    pv.setBigUint64(o, clean(o, pfns.length) ? (r.chance(0.9) ? BigInt(r.range(lo, hi - 1)) : BigInt(RAM_PAGES + r.int(4))) : gfn(r), true);
  }
  const accesses = new Uint8Array(0x800000 - ACCESSES).map((_, o) => (clean(o, 0x800000 - ACCESSES) ? r.int(12) : small(r, 13)) & 0xff);
  const image = asm(`
    mov r12, ${CALLS}
    mov r13, ${RESULTS}
    mov r14, ${calls.length}
  1:
    mov rax, [r12]
    mov rdi, [r12 + 8]
    mov rsi, [r12 + 16]
    mov rdx, [r12 + 24]
    vmcall
    mov [r13], rax
    xor eax, eax
    xor ecx, ecx
    vmfunc
    add r12, 32
    add r13, 8
    dec r14
    jnz 1b
    xor eax, eax
    mov dx, 0x501
    out dx, eax`, 0x100000);
  return { calls, pfns, accesses, image };
}

/** Writes the plan's calls, structures and lists into guest memory. */
export function loadPlan(write: (gpa: number, data: Uint8Array) => boolean, p: HostilePlan): void {
  const rec = new Uint8Array(32 * p.calls.length), rv = new DataView(rec.buffer);
  p.calls.forEach((c, i) => {
    rv.setBigUint64(i * 32, c.nr, true); rv.setBigUint64(i * 32 + 8, c.rdi, true);
    rv.setBigUint64(i * 32 + 16, c.rsi, true); rv.setBigUint64(i * 32 + 24, c.rdx, true);
    if (c.struct && !write(STRUCTS + i * 80, c.struct)) throw new Error('struct');
  });
  if (!write(CALLS, rec) || !write(PFNS, p.pfns) || !write(ACCESSES, p.accesses)) throw new Error('plan does not fit');
}
