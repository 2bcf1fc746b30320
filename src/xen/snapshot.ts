// A copy-before-write snapshot of a domain's RAM for one VMI program (issue 11, item 4): the
// program reads guest memory as it was at its launch instant while the guest keeps running.
// Neither Xen nor LibVMI offers it; it is built from Xen's mem_access pieces:
//  - protect (at launch): one pass over the leaf entries of every EPT view (the host p2m and each
//    altp2m view), clearing W and setting suppress-#VE so that a write exits rather than raising
//    #VE -- as p2m_set_mem_access (xen/arch/x86/mm/mem_access.c) with XENMEM_access_rx would,
//    though Xen sets each 4 KiB gfn (splitting superpages up front) where we restrict the leaf as
//    it is (a 2 MiB leaf covers 512 frames) and split only on a write (ept_split_super_page);
//    then INVEPT.
//  - a guest write to a protected frame exits (EPT violation); the handler (vmexit/ept.ts, Xen's
//    ept_handle_violation -> p2m_mem_access_check, which here resolves the access itself instead
//    of sending a vm_event) copies the frame into a frame of the hypervisor's pool, gives W back
//    for that frame in every view, INVEPTs, and resumes the guest at the same instruction.
//    The hypervisor's own writes to guest memory (Domain.writeGuestPhys) copy first too.
//  - LibVMI's driver reads a frame's copy when there is one, else the live frame (unchanged since
//    the launch). release() (the program's end) lifts the remaining restrictions and returns the
//    copies to the pool. Copies are bounded (maxCopies): past it the snapshot is abandoned
//    (restrictions lifted, `exhausted` set) and the program reads live memory from then on.
// Costs (src/xen/cost-profiles.ts): the pass (snapshotPass + snapshotProtectEntry per leaf) is
// charged to the guest's clock (it is paused for it); each copy adds snapshotCopy to the exit's
// round trip + EPT_VIOLATION handler work.
// Left out: a view created or remapped (altp2m create_p2m, change_gfn) while a snapshot is held is
// not protected; Dom0's own writes (vmi_write_*) go to live memory uncopied; split superpages stay
// split after release (as Xen leaves them), so a later pass restricts more, smaller leaves.
import type { Machine } from '../machine.js';
import type { EptTable } from './ept.js';
import { EPT_W, EPT_LARGE, EPT_SUPPRESS_VE } from './ept.js';
import { PAGE_SIZE } from './frames.js';
import { P2mPoolExhausted } from './p2m-pool.js';
import type { Domain } from './domain.js';

const ADDR_MASK = 0x000ffffffffff000n;
const PROTECT_BITS = EPT_W | EPT_SUPPRESS_VE;
/** Default bound on copied frames per snapshot (4 MiB of the hypervisor's heap). */
export const DEFAULT_SNAPSHOT_MAX_COPIES = 1024;

export interface SnapshotStats {
  /** Leaf entries restricted by the pass, over `views` EPT views. */
  protectedEntries: number;
  views: number;
  /** Frames copied (guest writes, hypervisor writes) and the bound. */
  copies: number;
  maxCopies: number;
  exhausted: boolean;
  /** Modelled cycles: the pass (charged at launch) and the copies' share of their exits. */
  passCycles: number;
  copyCycles: number;
  /** Host wall time of the pass and of all copies, ns. */
  passHostNs: number;
  copyHostNs: number;
}

/** Frames for copies: taken from the hypervisor's heap once, reused by later snapshots. */
export class SnapshotPool {
  private readonly free: number[] = [];
  constructor(private readonly d: Domain) {}
  take(): number | undefined {
    if (this.free.length) return this.free.pop()!;
    return this.d.frames.freeFrames > 0 ? this.d.frames.alloc() * PAGE_SIZE : undefined;
  }
  give(addr: number): void { this.free.push(addr); }
}

export class MemSnapshot {
  /** gfn -> machine address of its copy. */
  private readonly copies = new Map<number, number>();
  /** Per view: original entry of each restricted leaf, by "level:gpa". */
  private readonly originals = new Map<EptTable, Map<string, bigint>>();
  private active = true;
  readonly stats: SnapshotStats;
  private readonly m: Machine;

  constructor(private readonly d: Domain, private readonly pool: SnapshotPool, maxCopies = DEFAULT_SNAPSHOT_MAX_COPIES) {
    this.m = d.machine;
    const t0 = process.hrtime.bigint();
    const views = eptViews(d);
    let entries = 0;
    for (const v of views) {
      const orig = new Map<string, bigint>();
      this.originals.set(v, orig);
      this.walk(v.root, 4, 0n, (addr, level, gpa, e) => {
        if (gpa >= BigInt(d.memBytes) || !(e & EPT_W)) return;
        orig.set(`${level}:${gpa}`, e);
        this.m.write64(addr, (e & ~EPT_W) | EPT_SUPPRESS_VE);
        entries++;
      });
    }
    this.m.invept();
    const p = d.profile;
    const passCycles = p.snapshotPass.value + entries * p.snapshotProtectEntry.value;
    this.stats = { protectedEntries: entries, views: views.length, copies: 0, maxCopies, exhausted: false,
      passCycles, copyCycles: 0, passHostNs: Number(process.hrtime.bigint() - t0), copyHostNs: 0 };
    this.m.addVcycles(passCycles);   // the guest is paused for the pass
  }

  /** Visits every present leaf entry under `table` (level 4..1). */
  private walk(table: number, level: number, base: bigint, f: (addr: number, level: number, gpa: bigint, e: bigint) => void): void {
    const span = 1n << BigInt(12 + 9 * (level - 1));
    for (let i = 0; i < 512; i++) {
      const addr = table + i * 8;
      const e = this.m.read64(addr);
      if ((e & 7n) === 0n) continue;
      const gpa = base + BigInt(i) * span;
      if (level === 1 || (level <= 3 && (e & EPT_LARGE))) f(addr, level, gpa, e);
      else this.walk(Number(e & ADDR_MASK), level - 1, gpa, f);
    }
  }

  get isActive(): boolean { return this.active; }

  /** Is a write to this guest-physical frame restricted by the snapshot (not yet copied)? */
  protects(gpa: number): boolean {
    return this.active && gpa >= 0 && gpa < this.d.memBytes && !this.copies.has(Math.floor(gpa / PAGE_SIZE));
  }

  /** Machine address of the frame's copy, if the guest has written it since the launch. */
  copyOf(gpa: number): number | undefined { return this.copies.get(Math.floor(gpa / PAGE_SIZE)); }

  /**
   * A write to a protected frame (the EPT-violation handler, or the hypervisor's own write): copy
   * it, give W back in every view. Returns the modelled cycles to charge on top of the exit.
   */
  copyBeforeWrite(gpa: number): number {
    if (!this.protects(gpa)) return 0;
    const t0 = process.hrtime.bigint();
    const gfn = Math.floor(gpa / PAGE_SIZE);
    const copy = this.copies.size < this.stats.maxCopies ? this.pool.take() : undefined;
    if (copy === undefined) {
      this.stats.exhausted = true;
      this.d.log(`d${this.d.id} snapshot: copy limit reached (${this.stats.copies} frames); abandoned, the program reads live memory`);
      this.lift();
      return 0;
    }
    const ma = this.d.gpaToMachine(gfn * PAGE_SIZE)!;
    this.m.writePhys(copy, this.m.readPhys(ma, PAGE_SIZE));
    this.copies.set(gfn, copy);
    for (const [v, orig] of this.originals) this.unprotect(v, orig, BigInt(gfn * PAGE_SIZE));
    this.m.invept();
    const c = this.d.profile.snapshotCopy.value;
    this.stats.copies++;
    this.stats.copyCycles += c;
    this.stats.copyHostNs += Number(process.hrtime.bigint() - t0);
    return c;
  }

  /** Gives W (and suppress-#VE as it was) back to the 4 KiB frame at `gpa` in view `v`, splitting a restricted superpage. */
  private unprotect(v: EptTable, orig: Map<string, bigint>, gpa: bigint): void {
    for (const level of [1, 2, 3]) {
      const base = gpa & ~((1n << BigInt(12 + 9 * (level - 1))) - 1n);
      const o = orig.get(`${level}:${base}`);
      if (o === undefined) continue;
      let addr: number;
      try {
        addr = v.entryAddr(gpa, 1)!;   // splits the superpage, its 512 entries keeping the restriction
      } catch (e) {
        // The split needs a table from the domain's p2m pool (src/xen/p2m-pool.ts), which the guest
        // may have used up: as when Xen's p2m_set_entry fails in the mem_access path, the domain is crashed.
        if (!(e instanceof P2mPoolExhausted)) throw e;
        this.d.crash(`p2m pool exhausted (${e.pages} pages): cannot split the superpage at gpa 0x${gpa.toString(16)} for the snapshot`);
        return;
      }
      this.m.write64(addr, (this.m.read64(addr) & ~PROTECT_BITS) | (o & PROTECT_BITS));
      return;
    }
  }

  /** Lifts every remaining restriction (split superpages stay split, with their original rights). */
  private lift(): void {
    if (!this.active) return;
    this.active = false;
    for (const [v, orig] of this.originals) {
      for (const [key, o] of orig) {
        const level = Number(key.slice(0, key.indexOf(':')));
        const gpa = BigInt(key.slice(key.indexOf(':') + 1));
        const addr = v.entryAddr(gpa, level, false);
        if (addr !== undefined && (this.m.read64(addr) & EPT_LARGE || level === 1)) {
          this.m.write64(addr, (this.m.read64(addr) & ~PROTECT_BITS) | (o & PROTECT_BITS));
          continue;
        }
        // Split since: every 4 KiB entry of the range.
        for (let off = 0n; off < 1n << BigInt(12 + 9 * (level - 1)); off += BigInt(PAGE_SIZE)) {
          const a = v.entryAddr(gpa + off, 1, false);
          if (a !== undefined) this.m.write64(a, (this.m.read64(a) & ~PROTECT_BITS) | (o & PROTECT_BITS));
        }
      }
    }
    this.m.invept();
  }

  /** The program has ended: restrictions lifted, copies back to the pool. */
  release(): SnapshotStats {
    this.lift();
    for (const c of this.copies.values()) this.pool.give(c);
    this.copies.clear();
    if (this.d.snapshot === this) this.d.snapshot = undefined;
    return this.stats;
  }
}

/** Every EPT view of the domain: the host p2m and the altp2m views (0..9 and mirrors 10..19). */
function eptViews(d: Domain): EptTable[] {
  const out = [d.p2m];
  const a = d.trigger?.altp2m;
  if (a) for (let i = 0; i < 20; i++) { const v = a.view(i); if (v && !out.includes(v)) out.push(v); }
  return out;
}
