// Alternate p2m views (Xen's xen/arch/x86/mm/altp2m.c and do_altp2m_op in
// hvm.c), arranged as the paper needs them: views 0..n-1 are identical
// mappings of the domain's memory; EPTP-list entries 10+k ("mirrors") map
// exactly like view k, each through its own root table so that the EPTP value
// alone tells the index, and a VMFUNC to 10+k is the guest's VMI request with
// parameter k. Unused list entries hold an invalid EPTP, as in Xen, so a VMFUNC
// to them exits (reason 59).
//
// Isolation, as Xen's p2m code has it (xen/arch/x86/mm/p2m.c, altp2m.c, mem_access.c): a view's
// leaf only ever maps a frame the host p2m maps for the domain -- a gfn without RAM is refused with
// -ESRCH (altp2m_get_effective_entry) or, in view 0 (the host p2m's place), given a not-present
// entry -- and every table comes from the domain's p2m pool (src/xen/p2m-pool.ts), so a guest that
// asks for tables without end gets -ENOMEM and hurts nobody else. The argument checks of the
// HVMOP_altp2m structure are in src/xen/altp2m-op.ts; the operations here return 0 or -errno.
// Suppress-#VE of an edited leaf: the callers choose. Xen's p2m_set_altp2m_mem_access and
// p2m_change_altp2m_gfn pass sve = (current->domain != d): the guest restricting its own view gets
// the bit cleared (its violations become #VE), the toolstack gets it set; view 0 keeps its bit.
// Left out: a change to view 0 is not propagated to the other views (p2m_altp2m_propagate_change).
import type { Machine } from '../machine.js';
import { FrameAllocator, PAGE_SIZE, type FrameSource } from './frames.js';
import { EptTable, EPT_RWX, EPT_SUPPRESS_VE, EPT_GFN_BITS } from './ept.js';
import { P2mPoolExhausted } from './p2m-pool.js';
import { EINVAL, ENOMEM, ESRCH, EBUSY } from './public.js';

/** Xen's MAX_ALTP2M: views 0..9 are the guest's; our mirrors sit at 10..19 of the 512-entry list. */
export const MAX_ALTP2M = 10;
export const VMI_MIRROR_BASE = 10;
/** Xen fills unused EPTP-list slots with mfn_x(INVALID_MFN): all ones, which fails the EPTP checks. */
export const INVALID_EPTP = 0xffffffffffffffffn;
/** Xen's INVALID_GFN (~0UL): "the default access" to set_mem_access, "remove the remapping" to change_gfn. */
export const INVALID_GFN = 0xffffffffffffffffn;

// HVMOP_altp2m sub-operations (public/hvm/hvm_op.h).
export const HVMOP_altp2m = 25;
export const HVMOP_ALTP2M_INTERFACE_VERSION = 1;
export const HVMOP_altp2m_get_domain_state = 1;
export const HVMOP_altp2m_set_domain_state = 2;
export const HVMOP_altp2m_vcpu_enable_notify = 3;
export const HVMOP_altp2m_create_p2m = 4;
export const HVMOP_altp2m_destroy_p2m = 5;
export const HVMOP_altp2m_switch_p2m = 6;
export const HVMOP_altp2m_set_mem_access = 7;
export const HVMOP_altp2m_change_gfn = 8;
export const HVMOP_altp2m_set_mem_access_multi = 9;
export const HVMOP_altp2m_set_suppress_ve = 10;
export const HVMOP_altp2m_get_suppress_ve = 11;
export const HVMOP_altp2m_get_mem_access = 12;

/** Xen's XENMEM_access_t values and the EPT permissions they stand for. */
export const XENMEM_ACCESS = { n: 0, r: 1, w: 2, rw: 3, x: 4, rx: 5, wx: 6, rwx: 7, rx2rw: 8, n2rwx: 9, r_pw: 10, default: 11 } as const;

/**
 * xenmem_access_to_p2m_access (mem_access.c) followed by ept_p2m_type_to_flags (p2m-ept.c): the EPT
 * R/W/X bits a XENMEM_access_t value gives a RAM page, or undefined for a value Xen refuses (-EINVAL).
 * rx2rw and n2rwx start as rx and n (their automatic change on a violation needs a vm_event
 * listener, which a guest calling on itself has not); r_pw is r; default is the domain's default.
 */
export function xenmemAccessToEpt(access: number, defaultAccess: bigint): bigint | undefined {
  if (!Number.isInteger(access) || access < 0) return undefined;
  if (access <= 7) return BigInt(access);
  switch (access) {
    case XENMEM_ACCESS.rx2rw: return 5n;
    case XENMEM_ACCESS.n2rwx: return 0n;
    case XENMEM_ACCESS.r_pw: return 1n;
    case XENMEM_ACCESS.default: return defaultAccess;
    default: return undefined;
  }
}

/** How the domain's memory is mapped: called on each new view to fill it like the host p2m. */
export type P2mFill = (view: EptTable) => void;

export interface Altp2mOptions {
  /** Identical normal views (indices 0..views-1), at most MAX_ALTP2M. */
  views: number;
  /** Whether mirror views 10+k exist (the paper's VMI-request indices). */
  mirrors: boolean;
  /** Use EPT accessed/dirty flags in the EPTPs. */
  accessedDirty?: boolean;
  /** Where the views' tables come from: the domain's p2m pool (default: the heap given to the constructor). */
  pool?: FrameSource;
  /** The host p2m, which says which gfns have RAM (default: view 0 as first filled). */
  host?: EptTable;
}

export class Altp2m {
  readonly listAddr: number;
  private readonly tables = new Map<number, EptTable>();
  private readonly pool: FrameSource;
  private host: EptTable | undefined;
  /** p2m->default_access, set by set_mem_access on INVALID_GFN. */
  defaultAccess = EPT_RWX;

  constructor(private readonly m: Machine, frames: FrameAllocator, private readonly fill: P2mFill,
              private readonly opts: Altp2mOptions) {
    if (!Number.isInteger(opts.views) || opts.views < 1 || opts.views > MAX_ALTP2M) {
      throw new RangeError(`altp2m views must be 1..${MAX_ALTP2M}, got ${opts.views}`);
    }
    this.pool = opts.pool ?? frames;
    this.host = opts.host;
    this.listAddr = frames.alloc() * PAGE_SIZE;
    for (let i = 0; i < 512; i++) m.write64(this.listAddr + i * 8, INVALID_EPTP);
    for (let k = 0; k < opts.views; k++) {
      this.create(k);
      if (opts.mirrors) this.create(VMI_MIRROR_BASE + k);
    }
    this.host ??= this.tables.get(0);
  }

  get viewCount(): number { return this.opts.views; }

  /** A new view filled like the host p2m; its tables go back to the pool if the pool runs dry. */
  private create(index: number): EptTable {
    const t = new EptTable(this.m, this.pool);
    try { this.fill(t); } catch (e) { t.destroy(); throw e; }
    this.tables.set(index, t);
    this.m.write64(this.listAddr + index * 8, t.eptp(this.opts.accessedDirty));
    return t;
  }

  private drop(index: number): void {
    const t = this.tables.get(index);
    if (!t) return;
    this.tables.delete(index);
    this.m.write64(this.listAddr + index * 8, INVALID_EPTP);
    t.destroy();
  }

  view(index: number): EptTable | undefined { return this.tables.get(index); }
  /** Every view and mirror, by EPTP-list index. */
  views(): [number, EptTable][] { return [...this.tables.entries()]; }
  eptp(index: number): bigint | undefined {
    const t = this.tables.get(index);
    return t?.eptp(this.opts.accessedDirty);
  }
  /** The list index an EPTP value stands for (matching the list, as Xen does without #VE). */
  indexOfEptp(eptp: bigint): number | undefined {
    // As a number: a root with bits above 2^53 set cannot equal a table's (machine memory is smaller).
    const root = Number(eptp & ~0xfffn);
    for (const [i, t] of this.tables) if (t.root === root) return i;
    return undefined;
  }
  /** A VMI request index: a mirror 10+k of an existing view k. */
  isRequestIndex(index: number): boolean {
    return this.opts.mirrors && index >= VMI_MIRROR_BASE && this.tables.has(index) && this.tables.has(index - VMI_MIRROR_BASE);
  }

  /** A guest's view index names an existing view (Xen: idx < MAX_ALTP2M and altp2m_eptp[idx] valid). */
  isValidView(index: number): boolean { return index >= 0 && index < MAX_ALTP2M && this.tables.has(index); }

  /**
   * The host p2m's entry for `gfn` as a 4 KiB leaf, if the domain has RAM there (p2m_ram_rw): the
   * only frames a view may ever map. Gfns beyond the EPT's 36 bits have none.
   */
  hostLeaf(gfn: bigint): bigint | undefined {
    if (gfn < 0n || gfn >> EPT_GFN_BITS) return undefined;
    const e = this.host!.lookup(gfn << 12n);
    return e !== undefined && (e & 7n) !== 0n ? e : undefined;
  }

  /** The view and its mirror, which maps like it. */
  private pair(index: number): EptTable[] {
    const out = [this.tables.get(index)!];
    const mirror = this.tables.get(index + VMI_MIRROR_BASE);
    if (this.opts.mirrors && mirror) out.push(mirror);
    return out;
  }

  /**
   * Edits the leaf for `gfn` in the view and its mirror. An empty p2m pool is -ENOMEM (ept_set_entry's
   * GUEST_TABLE_MAP_FAILED); if it strikes at the mirror, the view's leaf is put back (its path
   * exists by then, so that needs no table), so the two keep mapping alike.
   */
  private editPair(index: number, gfn: bigint, f: (t: EptTable) => void): number {
    const gpa = gfn << 12n;
    const done: [EptTable, bigint][] = [];
    try {
      for (const t of this.pair(index)) {
        const before = t.lookup(gpa) ?? EPT_SUPPRESS_VE;
        f(t);
        done.push([t, before]);
      }
    } catch (e) {
      if (!(e instanceof P2mPoolExhausted)) throw e;
      for (const [t, before] of done) t.setLeaf(gpa, before);
      this.m.invept();
      return -ENOMEM;
    }
    this.m.invept();
    return 0;
  }

  // ---- HVMOP_altp2m operations: 0 or -errno, in Xen's order of checks ----------------------------

  /** create_p2m (p2m_init_next_altp2m): the first free slot below 10, or -EINVAL; -ENOMEM if the pool is empty. */
  createP2m(): number {
    for (let i = 0; i < MAX_ALTP2M; i++) {
      if (this.tables.has(i)) continue;
      try {
        this.create(i);
        if (this.opts.mirrors) this.create(VMI_MIRROR_BASE + i);
      } catch (e) {
        if (!(e instanceof P2mPoolExhausted)) throw e;
        this.drop(i);
        return -ENOMEM;
      }
      return i;
    }
    return -EINVAL;
  }

  /**
   * destroy_p2m (p2m_destroy_altp2m_by_id): -EBUSY for view 0, an index out of range, a view that does
   * not exist or one a vCPU is using (its own EPTP or its mirror's); the tables go back to the pool.
   */
  destroyP2m(index: number): number {
    if (index === 0 || !this.isValidView(index)) return -EBUSY;
    const cur = this.indexOfEptp(this.m.vmread('EPT_POINTER'));
    if (cur === index || cur === index + VMI_MIRROR_BASE) return -EBUSY;
    this.drop(index);
    this.drop(index + VMI_MIRROR_BASE);
    this.m.invept();
    return 0;
  }

  /**
   * set_mem_access on one gfn (p2m_set_mem_access -> set_mem_access / p2m_set_altp2m_mem_access):
   * -EINVAL for a bad view, then for a bad access value; INVALID_GFN sets the default access. In an
   * altp2m view a gfn without RAM is skipped (-ESRCH, which Xen's set_mem_access turns into 0); in
   * view 0 it gets a not-present entry (ept_set_entry with INVALID_MFN), which costs tables, and a gfn
   * beyond the EPT's width is -EINVAL.
   */
  setMemAccess(index: number, gfn: bigint, access: number, suppressVe: boolean | 'keep' = true): number {
    if (index !== 0 && !this.isValidView(index)) return -EINVAL;
    if (!this.tables.has(index)) return -EINVAL;
    const perms = xenmemAccessToEpt(access, this.defaultAccess);
    if (perms === undefined) return -EINVAL;
    if (gfn === INVALID_GFN) { this.defaultAccess = perms; return 0; }
    const host = this.hostLeaf(gfn);
    if (host === undefined) {
      if (index !== 0) return 0;
      if (gfn >> EPT_GFN_BITS) return -EINVAL;
      return this.editPair(index, gfn, (t) => t.setLeaf(gfn << 12n, EPT_SUPPRESS_VE));
    }
    return this.editPair(index, gfn, (t) => t.setAccess(gfn << 12n, perms, suppressVe === 'keep' ? undefined : suppressVe));
  }

  /**
   * change_gfn (p2m_change_altp2m_gfn): view `index` maps old_gfn onto the frame its new_gfn has.
   * -EINVAL for a bad view; new_gfn INVALID_GFN drops the remapping (the host's entry again); either
   * gfn without RAM -ESRCH (altp2m_get_effective_entry); -ENOMEM if a superpage split finds no table.
   */
  changeGfn(index: number, oldGfn: bigint, newGfn: bigint, suppressVe?: boolean): number {
    if (!this.isValidView(index)) return -EINVAL;
    if (newGfn === INVALID_GFN) {
      const host = this.hostLeaf(oldGfn);
      if (host === undefined) return 0;
      return this.editPair(index, oldGfn, (t) => t.setLeaf(oldGfn << 12n, host));
    }
    if (this.hostLeaf(oldGfn) === undefined || this.hostLeaf(newGfn) === undefined) return -ESRCH;
    let target = this.tables.get(index)!.lookup(newGfn << 12n)!;
    if (suppressVe !== undefined) target = suppressVe ? target | EPT_SUPPRESS_VE : target & ~EPT_SUPPRESS_VE;
    return this.editPair(index, oldGfn, (t) => t.setLeaf(oldGfn << 12n, target));
  }

  /** set_suppress_ve (p2m_set_suppress_ve): -EINVAL for a bad view; -ESRCH for a gfn without RAM outside view 0. */
  setSuppressVe(index: number, gfn: bigint, suppress: boolean): number {
    if (index !== 0 && !this.isValidView(index)) return -EINVAL;
    if (!this.tables.has(index)) return -EINVAL;
    const host = this.hostLeaf(gfn);
    if (host === undefined) {
      if (index !== 0) return -ESRCH;
      if (gfn >> EPT_GFN_BITS) return -EINVAL;
      return this.editPair(index, gfn, (t) => t.setLeaf(gfn << 12n, suppress ? EPT_SUPPRESS_VE : 0n));
    }
    return this.editPair(index, gfn, (t) => t.setAccess(gfn << 12n, t.lookup(gfn << 12n)! & 7n, suppress));
  }

  /** get_suppress_ve (p2m_get_suppress_ve): the bit, or -EINVAL / -ESRCH. */
  getSuppressVe(index: number, gfn: bigint): number | { suppress: boolean } {
    if (index !== 0 && !this.isValidView(index)) return -EINVAL;
    if (!this.tables.has(index)) return -EINVAL;
    if (this.hostLeaf(gfn) === undefined) return -ESRCH;
    return { suppress: (this.tables.get(index)!.lookup(gfn << 12n)! & EPT_SUPPRESS_VE) !== 0n };
  }

  /** get_mem_access (p2m_get_mem_access): the XENMEM_access_t value, the default for INVALID_GFN, or -EINVAL / -ESRCH. */
  getMemAccess(index: number, gfn: bigint): number | { access: number } {
    if (index !== 0 && !this.isValidView(index)) return -EINVAL;
    if (!this.tables.has(index)) return -EINVAL;
    if (gfn === INVALID_GFN) return { access: Number(this.defaultAccess) };
    if (this.hostLeaf(gfn) === undefined) return -ESRCH;
    return { access: Number(this.tables.get(index)!.lookup(gfn << 12n)! & 7n) };
  }
}

/** The identity-style fill used when guest RAM is one contiguous machine range. */
export function contiguousFill(gfn0: bigint, mfn0: bigint, pages: bigint, flags = EPT_RWX | EPT_SUPPRESS_VE): P2mFill {
  return (t) => t.map(gfn0 << 12n, mfn0 << 12n, pages << 12n, flags);
}
