// Isolation as Xen does it, one rule per test, each citing the Xen function it follows:
//  - HVMOP_altp2m checks the view, the access and the gfn as do_altp2m_op (xen/arch/x86/hvm/hvm.c),
//    p2m_set_mem_access / set_mem_access / p2m_set_altp2m_mem_access (mm/mem_access.c),
//    p2m_change_altp2m_gfn and altp2m_get_effective_entry (mm/p2m.c, mm/altp2m.c) do, in their
//    order; a view's leaf only ever maps a frame the domain owns.
//  - EPT tables come from the domain's p2m pool (hap_alloc_p2m_page, libxl's default size);
//    an empty pool is -ENOMEM for that domain only, and destroyed views give their tables back.
//  - Unmapped EPT entries carry suppress-#VE (ept_set_middle_entry); an access there is MMIO
//    with no device model (null_handler: reads all ones, writes dropped), logged once per page
//    with hvmemul_do_io's "unhandled memory read from / write to" message.
// Before this work set_mem_access on a gfn beyond RAM mapped machine address 0 RWX (two such gfns
// shared it), change_gfn on arbitrary gfns ate the hypervisor's heap until view creation failed,
// and a read beyond RAM with views raised #VE in the guest.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { prepareRun, runImage } from '../src/run.js';
import { Domain } from '../src/xen/domain.js';
import { VmiTrigger } from '../src/xen/trigger.js';
import { defaultP2mPoolPages } from '../src/xen/p2m-pool.js';
import { EPT_SUPPRESS_VE } from '../src/xen/ept.js';
import {
  HVMOP_altp2m_set_mem_access, HVMOP_altp2m_change_gfn, HVMOP_altp2m_create_p2m, HVMOP_altp2m_destroy_p2m,
  HVMOP_altp2m_set_domain_state, HVMOP_altp2m_get_mem_access, HVMOP_altp2m_set_suppress_ve, HVMOP_altp2m_get_suppress_ve,
  INVALID_GFN,
} from '../src/xen/altp2m.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';
import { eptLeaves } from './helpers/ept-audit.js';

const EINVAL = -22, ENOMEM = -12, ESRCH = -3, EOPNOTSUPP = -95, EBUSY = -16;
const MIB = 1 << 20;

/** struct xen_hvm_altp2m_op (80 bytes) with the common union layout: view @16, u16 @18, u32 @20, u64 @24, u64 @32. */
function op(cmd: number, f: { view?: number; u16?: number; u32?: number; a?: bigint; b?: bigint; version?: number; pad1?: number; pad2?: number } = {}) {
  const dv = new DataView(new ArrayBuffer(80));
  dv.setUint32(0, f.version ?? 1, true); dv.setUint32(4, cmd, true); dv.setUint16(8, 0x7ff0, true);
  dv.setUint16(10, f.pad1 ?? 0, true); dv.setUint32(12, f.pad2 ?? 0, true);
  dv.setUint16(16, f.view ?? 0, true); dv.setUint16(18, f.u16 ?? 0, true); dv.setUint32(20, f.u32 ?? 0, true);
  dv.setBigUint64(24, f.a ?? 0n, true); dv.setBigUint64(32, f.b ?? 0n, true);
  return dv;
}

function domain(memMiB = 8) {
  const { d } = prepareRun({ vmi: { views: 2 }, memMiB });
  const mech = d.trigger!;
  return { d, mech, call: (dv: DataView) => mech.altp2mOp(d.vcpus[0], dv) };
}

/** Every leaf of every view maps a frame inside the domain's RAM (or nothing). */
function expectOwnFramesOnly(d: Domain): void {
  const lo = BigInt(d.ramBase), hi = BigInt(d.ramBase + d.memBytes);
  for (const [index, view] of d.trigger!.altp2m.views()) {
    for (const l of eptLeaves(d.machine, view.root)) {
      if (l.frame === 0n && (l.entry & 7n) === 0n) continue;   // not present, no frame (suppress-#VE only)
      expect(l.frame >= lo && l.frame + l.size <= hi, `view ${index}: gpa 0x${l.gpa.toString(16)} -> 0x${l.frame.toString(16)}`).toBe(true);
    }
  }
}

describe('altp2m GFN checks (p2m_set_mem_access, p2m_change_altp2m_gfn, altp2m_get_effective_entry)', () => {
  it('set_mem_access on a gfn beyond RAM maps nothing: -ESRCH turned into 0 in a view (set_mem_access), no frame 0', () => {
    const { d, call } = domain();
    const ramPages = BigInt(d.memBytes / 4096);
    for (const gfn of [ramPages, ramPages + 1n, 0x12345n, (1n << 36n) - 1n]) {
      expect(call(op(HVMOP_altp2m_set_mem_access, { view: 1, u16: 7, a: gfn }))).toBe(0);
      // Still an EPT violation (MMIO), not machine address 0.
      expect(d.machine.eptWalk(d.trigger!.altp2m.eptp(1)!, gfn << 12n, 0)).toMatchObject({ exit: 48 });
    }
    expectOwnFramesOnly(d);
  });

  it('view 0 (the host p2m\'s place): a gfn beyond RAM gets a not-present entry with suppress-#VE; beyond 2^36 -EINVAL (ept_set_entry)', () => {
    const { d, call } = domain();
    const gfn = 0x40000n;
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 0, u16: 7, a: gfn }))).toBe(0);
    const e = d.trigger!.altp2m.view(0)!.lookup(gfn << 12n)!;
    expect(e).toBe(EPT_SUPPRESS_VE);
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 0, u16: 7, a: 1n << 36n }))).toBe(EINVAL);
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 0, u16: 7, a: 0xffffffffffff0000n }))).toBe(EINVAL);
    expectOwnFramesOnly(d);
  });

  it('errno order of do_altp2m_op: pad/version -EINVAL before an unknown cmd -EOPNOTSUPP; altp2m off -EOPNOTSUPP before the view check', () => {
    const { call } = domain();
    expect(call(op(99, { version: 2 }))).toBe(EINVAL);
    expect(call(op(99, { pad1: 1 }))).toBe(EINVAL);
    expect(call(op(99))).toBe(EOPNOTSUPP);
    expect(call(op(HVMOP_altp2m_set_domain_state, { view: 0 }))).toBe(0);          // state 0: inactive
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 77, u16: 99, a: 1n }))).toBe(EOPNOTSUPP);
    expect(call(op(HVMOP_altp2m_set_domain_state, { view: 1 }))).toBe(0);
  });

  it('set_mem_access: sub-op pad -EINVAL, then a bad view -EINVAL, then a bad access -EINVAL, then the gfn; INVALID_GFN sets the default access', () => {
    const { call } = domain();
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 1, u16: 7, u32: 1, a: 0x300n }))).toBe(EINVAL);
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 5, u16: 7, a: 0x300n }))).toBe(EINVAL);   // no view 5
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 11, u16: 7, a: 0x300n }))).toBe(EINVAL);  // mirrors are not views
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 1, u16: 12, a: 0x300n }))).toBe(EINVAL);  // past XENMEM_access_default
    expect(call(op(HVMOP_altp2m_set_mem_access, { view: 1, u16: 1, a: INVALID_GFN }))).toBe(0);
    const g = op(HVMOP_altp2m_get_mem_access, { view: 1, a: INVALID_GFN });
    expect(call(g)).toBe(0);
    expect(g.getUint16(18, true)).toBe(1);
    expect(call(op(HVMOP_altp2m_get_mem_access, { view: 1, a: 0x12345n }))).toBe(ESRCH);        // no RAM: INVALID_MFN
  });

  it('change_gfn: a bad view -EINVAL; an old or new gfn without RAM -ESRCH; INVALID_GFN puts the host entry back', () => {
    const { d, call } = domain();
    const alt = d.trigger!.altp2m;
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 4, a: 0x300n, b: 0x301n }))).toBe(EINVAL);
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, u16: 1, a: 0x300n, b: 0x301n }))).toBe(EINVAL);   // pad1
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, a: 0x300n, b: 0x900000n }))).toBe(ESRCH);
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, a: 0x900000n, b: 0x300n }))).toBe(ESRCH);
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, a: 0x300n, b: 0x301n }))).toBe(0);
    expect(alt.view(1)!.lookup(0x300000n)! & ~0xfffn & 0xffffffffffn).toBe(BigInt(d.ramBase) + 0x301000n);
    expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, a: 0x300n, b: INVALID_GFN }))).toBe(0);
    expect(alt.view(1)!.lookup(0x300000n)! & ~0xfffn & 0xffffffffffn).toBe(BigInt(d.ramBase) + 0x300000n);
    expectOwnFramesOnly(d);
  });

  it('suppress_ve: set/get on RAM, -ESRCH without RAM in a view (p2m_set_suppress_ve, p2m_get_suppress_ve)', () => {
    const { call } = domain();
    expect(call(op(HVMOP_altp2m_set_suppress_ve, { view: 1, u16: 0, a: 0x300n }))).toBe(0);
    const g = op(HVMOP_altp2m_get_suppress_ve, { view: 1, a: 0x300n });
    expect(call(g)).toBe(0);
    expect(g.getUint8(18)).toBe(0);
    expect(call(op(HVMOP_altp2m_set_suppress_ve, { view: 1, u16: 1, a: 0x300000n }))).toBe(ESRCH);
    expect(call(op(HVMOP_altp2m_get_suppress_ve, { view: 1, a: 0x300000n }))).toBe(ESRCH);
  });

  it('destroy_p2m: view 0, an absent view or the view in use -EBUSY (p2m_destroy_altp2m_by_id)', () => {
    const { call } = domain();
    expect(call(op(HVMOP_altp2m_destroy_p2m, { view: 0 }))).toBe(EBUSY);
    expect(call(op(HVMOP_altp2m_destroy_p2m, { view: 7 }))).toBe(EBUSY);
    expect(call(op(HVMOP_altp2m_destroy_p2m, { view: 1 }))).toBe(0);
  });
});

describe('the p2m pool (hap_alloc_p2m_page; libxl_get_required_shadow_memory)', () => {
  it('is sized as libxl sizes an HVM guest\'s: 256 pages per vCPU + 2 per MiB of RAM', () => {
    expect(defaultP2mPoolPages(64, 1)).toBe(384);
    const { d } = domain(8);
    expect(d.p2mPool.pages).toBe(256 + 16);
  });

  it('an empty pool is -ENOMEM for this domain only: its heap, its other views and other domains are untouched', () => {
    const { d, call } = domain(8);
    const heapFree = d.frames.freeFrames;
    let enomem = 0, ok = 0;
    // One gfn per GiB of guest-physical space: each needs a new page directory and page table in view 0 and its mirror.
    for (let i = 1n; i < 400n && !enomem; i++) {
      const rc = call(op(HVMOP_altp2m_set_mem_access, { view: 0, u16: 7, a: i << 18n }));
      if (rc === 0) ok++; else if (rc === ENOMEM) enomem++; else throw new Error(`rc ${rc}`);
    }
    expect(enomem).toBe(1);
    expect(ok).toBeGreaterThan(10);
    expect(d.p2mPool.available).toBeLessThan(4);
    expect(call(op(HVMOP_altp2m_create_p2m))).toBe(ENOMEM);
    // The hypervisor heap (trace buffers, snapshots, bitmaps) did not pay for it.
    expect(d.frames.freeFrames).toBe(heapFree);
    expect(() => d.frames.alloc()).not.toThrow();
    // Another domain creates views as before.
    const other = new Domain({ memMiB: 8, domid: 2 });
    const mech2 = new VmiTrigger(other, { views: 2 });
    const c = op(HVMOP_altp2m_create_p2m);
    expect(mech2.altp2mOp(other.vcpus[0], c)).toBe(0);
    expect(c.getUint16(16, true)).toBe(2);
    // Destroying a view gives its tables back to this domain's pool; a new view fits again.
    const before = d.p2mPool.used;
    expect(call(op(HVMOP_altp2m_destroy_p2m, { view: 1 }))).toBe(0);
    expect(d.p2mPool.used).toBeLessThan(before);
    const c2 = op(HVMOP_altp2m_create_p2m);
    expect(call(c2)).toBe(0);
    expect(c2.getUint16(16, true)).toBe(1);
    expectOwnFramesOnly(d);
  });

  it('-ENOMEM half-way (the view\'s table fitted, the mirror\'s did not) puts the view back: view and mirror map alike', () => {
    const probe = new Domain({ memMiB: 8 });
    new VmiTrigger(probe, { views: 2 });
    const used = probe.p2mPool.used;
    const d = new Domain({ memMiB: 8, p2mPoolPages: used + 1 });        // one table left
    const mech = new VmiTrigger(d, { views: 2 });
    expect(d.p2mPool.available).toBe(1);
    const alt = mech.altp2m;
    // gfn 0x345 lies in a 2 MiB page: restricting it splits view 1 (the last table) and then mirror 11 (none left).
    expect(mech.altp2mOp(d.vcpus[0], op(HVMOP_altp2m_set_mem_access, { view: 1, u16: 1, a: 0x345n }))).toBe(ENOMEM);
    expect(alt.view(1)!.lookup(0x345000n)! & 7n).toBe(7n);
    expect(alt.view(1)!.lookup(0x345000n)).toBe(alt.view(11)!.lookup(0x345000n));
  });

  it('a snapshot that needs a table from an empty pool crashes the domain cleanly (no host exception)', () => {
    const probe = new Domain({ memMiB: 8 });
    new VmiTrigger(probe, { views: 2 });
    const d = new Domain({ memMiB: 8, p2mPoolPages: probe.p2mPool.used });   // not one table left
    new VmiTrigger(d, { views: 2 });
    expect(d.p2mPool.available).toBe(0);
    expect(d.takeSnapshot()).toBeDefined();
    // A hypervisor write into a restricted 2 MiB page: copy-before-write must split it.
    expect(() => d.writeGuestPhys(0x300000, new Uint8Array([1]))).not.toThrow();
    expect(d.shutdownInfo).toMatchObject({ reason: 'crash' });
    expect(d.shutdownInfo!.message).toMatch(/p2m pool exhausted/);
  });

  it('change_gfn on arbitrary gfns cannot drain anything (the 312-call exhaustion of the issue): -ESRCH, no table', () => {
    const { d, call } = domain(8);
    const used = d.p2mPool.used;
    for (let i = 0n; i < 1000n; i++) expect(call(op(HVMOP_altp2m_change_gfn, { view: 1, a: 0x100000n + i * 0x40000n, b: 0x300n }))).toBe(ESRCH);
    expect(d.p2mPool.used).toBe(used);
    expect(call(op(HVMOP_altp2m_create_p2m))).toBe(0);
  });
});

describe.skipIf(!haveAssembler())('memory outside RAM with views (ept_set_middle_entry suppress_ve; hvmemul_do_io null_handler)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmvmi-iso-'));
  it('the guest\'s own set_mem_access clears suppress-#VE in view 1 (p2m_set_altp2m_mem_access: sve = current->domain != d): its write there is a #VE', () => {
    const OUT = 0x200000, OP = 0x210000, IDT = 0x220000, PAGE = 0x280000;
    const code = asm(`
      lea rax, [rip + ve]
      mov word ptr [${IDT + 20 * 16}], ax
      mov word ptr [${IDT + 20 * 16 + 2}], 0x08
      mov word ptr [${IDT + 20 * 16 + 4}], 0x8e00
      shr rax, 16
      mov word ptr [${IDT + 20 * 16 + 6}], ax
      mov dword ptr [${IDT + 20 * 16 + 8}], 0
      lidt [rip + idtr]
      mov dword ptr [${OP}], 1                 # version
      mov dword ptr [${OP + 4}], 7             # set_mem_access
      mov word ptr [${OP + 8}], 0x7ff0         # DOMID_SELF
      mov word ptr [${OP + 16}], 1             # view 1
      mov word ptr [${OP + 18}], 1             # XENMEM_access_r
      mov qword ptr [${OP + 24}], ${PAGE >> 12}
      mov eax, 34
      mov edi, 25
      mov esi, ${OP}
      vmcall
      mov [${OUT}], rax
      xor eax, eax
      mov ecx, 1
      vmfunc                                   # view 1
      mov byte ptr [${PAGE}], 1
      hlt
    idtr: .word 0xfff
      .quad ${IDT}
    ve:
      mov rax, [0x4000 + 24]                   # #VE information: guest-physical address
      mov [${OUT + 8}], rax
      mov eax, [0x4000]
      mov [${OUT + 16}], rax
      xor eax, eax
      mov dx, 0x501
      out dx, eax`, 0x100000);
    const file = join(dir, 've.elf');
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: code }]));
    let d: Domain | undefined;
    const s = runImage({ image: file, systemMap: false, memMiB: 4, maxInsns: 100_000n, vmi: { views: 2 }, beforeRun: (dom) => { d = dom; } });
    expect(s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    const u64 = (a: number) => new DataView(d!.readGuestPhys(a, 8)!.buffer).getBigUint64(0, true);
    expect(u64(OUT)).toBe(0n);
    expect(u64(OUT + 8)).toBe(BigInt(PAGE));
    expect(u64(OUT + 16) & 0xffffffffn).toBe(48n);
    const alt = d!.trigger!.altp2m;
    expect(alt.view(1)!.lookup(BigInt(PAGE))! & EPT_SUPPRESS_VE).toBe(0n);
    expect(alt.view(1)!.lookup(BigInt(PAGE))! & 7n).toBe(1n);
    expect(alt.view(0)!.lookup(BigInt(PAGE))! & 7n).toBe(7n);
  });

  it('a read beyond RAM with #VE on is MMIO, not #VE: all ones, the write dropped, the guest goes on; logged once per page', () => {
    const OUT = 0x200000, HOLE = 3 * MIB;   // 3 MiB of RAM; the loader maps linear [0, 4 MiB)
    const code = asm(`
      mov rax, [${HOLE + 0x10}]
      mov [${OUT}], rax
      mov dword ptr [${HOLE + 0x20}], 0x1234
      mov ebx, [${HOLE + 0x20}]
      mov [${OUT + 8}], rbx
      mov ecx, [${HOLE + 0x1000}]
      mov edx, [${HOLE + 0x1008}]
      xor eax, eax
      mov dx, 0x501
      out dx, eax`, 0x100000);
    const file = join(dir, 'hole.elf');
    writeFileSync(file, makeElf(0x100000, [{ paddr: 0x100000, data: code }]));
    const log: string[] = [];
    let d: Domain | undefined;
    const s = runImage({ image: file, systemMap: false, memMiB: 3, maxInsns: 100_000n, vmi: { views: 2 },
      onLog: (l) => log.push(l), beforeRun: (dom) => { d = dom; } });
    expect(d!.veEnabled).toBe(true);
    expect(s.exit).toMatchObject({ kind: 'shutdown', status: 0 });
    const u64 = (a: number) => new DataView(d!.readGuestPhys(a, 8)!.buffer).getBigUint64(0, true);
    expect(u64(OUT)).toBe(0xffffffffffffffffn);
    expect(u64(OUT + 8)).toBe(0xffffffffn);
    expect(log.filter((l) => /unhandled memory/.test(l))).toEqual([
      'd1v0 unhandled memory read from 0x300010 size 8',
      'd1v0 unhandled memory read from 0x301000 size 4',
    ]);
  });
});
