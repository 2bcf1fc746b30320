// Alternate p2m views (Xen's xen/arch/x86/mm/altp2m.c and do_altp2m_op in
// hvm.c), arranged as the paper needs them: views 0..n-1 are identical
// mappings of the domain's memory; EPTP-list entries 10+k ("mirrors") map
// exactly like view k, each through its own root table so that the EPTP value
// alone tells the index, and a VMFUNC to 10+k is the guest's VMI request with
// parameter k. Unused list entries hold an invalid EPTP, as in Xen, so a VMFUNC
// to them exits (reason 59).
import type { Machine } from '../machine.js';
import { FrameAllocator, PAGE_SIZE } from './frames.js';
import { EptTable, EPT_RWX, EPT_SUPPRESS_VE } from './ept.js';

export const MAX_ALTP2M = 10;
export const VMI_MIRROR_BASE = 10;
/** Xen fills unused EPTP-list slots with mfn_x(INVALID_MFN): all ones, which fails the EPTP checks. */
export const INVALID_EPTP = 0xffffffffffffffffn;

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

/** Xen's XENMEM_access_t values and the EPT permissions they stand for. */
export const XENMEM_ACCESS = { n: 0, r: 1, w: 2, rw: 3, x: 4, rx: 5, wx: 6, rwx: 7 } as const;

/** How the domain's memory is mapped: called on each new view to fill it like the host p2m. */
export type P2mFill = (view: EptTable) => void;

export interface Altp2mOptions {
  /** Identical normal views (indices 0..views-1), at most MAX_ALTP2M. */
  views: number;
  /** Whether mirror views 10+k exist (the paper's VMI-request indices). */
  mirrors: boolean;
  /** Use EPT accessed/dirty flags in the EPTPs. */
  accessedDirty?: boolean;
}

export class Altp2m {
  readonly listAddr: number;
  private readonly tables = new Map<number, EptTable>();

  constructor(private readonly m: Machine, private readonly frames: FrameAllocator, private readonly fill: P2mFill,
              private readonly opts: Altp2mOptions) {
    if (!Number.isInteger(opts.views) || opts.views < 1 || opts.views > MAX_ALTP2M) {
      throw new RangeError(`altp2m views must be 1..${MAX_ALTP2M}, got ${opts.views}`);
    }
    this.listAddr = frames.alloc() * PAGE_SIZE;
    for (let i = 0; i < 512; i++) m.write64(this.listAddr + i * 8, INVALID_EPTP);
    for (let k = 0; k < opts.views; k++) {
      this.create(k);
      if (opts.mirrors) this.create(VMI_MIRROR_BASE + k);
    }
  }

  get viewCount(): number { return this.opts.views; }

  private create(index: number): EptTable {
    const t = new EptTable(this.m, this.frames);
    this.fill(t);
    this.tables.set(index, t);
    this.m.write64(this.listAddr + index * 8, t.eptp(this.opts.accessedDirty));
    return t;
  }

  view(index: number): EptTable | undefined { return this.tables.get(index); }
  eptp(index: number): bigint | undefined {
    const t = this.tables.get(index);
    return t?.eptp(this.opts.accessedDirty);
  }
  /** The list index an EPTP value stands for (matching the list, as Xen does without #VE). */
  indexOfEptp(eptp: bigint): number | undefined {
    const root = eptp & ~0xfffn;
    for (const [i, t] of this.tables) if (BigInt(t.root) === root) return i;
    return undefined;
  }
  /** A VMI request index: a mirror 10+k of an existing view k. */
  isRequestIndex(index: number): boolean {
    return this.opts.mirrors && index >= VMI_MIRROR_BASE && this.tables.has(index) && this.tables.has(index - VMI_MIRROR_BASE);
  }

  // ---- HVMOP_altp2m operations --------------------------------------------
  /** create_p2m: a new view identical to the host p2m, in the first free slot below 10. */
  createP2m(): number {
    for (let i = 0; i < MAX_ALTP2M; i++) {
      if (!this.tables.has(i)) {
        this.create(i);
        if (this.opts.mirrors) this.create(VMI_MIRROR_BASE + i);
        return i;
      }
    }
    throw new RangeError('no free altp2m slot');
  }
  /** destroy_p2m: view 0 (the host p2m) cannot be destroyed; its list slots become invalid again. */
  destroyP2m(index: number): void {
    if (index === 0 || !this.tables.has(index)) throw new RangeError(`cannot destroy altp2m view ${index}`);
    for (const i of [index, index + VMI_MIRROR_BASE]) {
      this.tables.delete(i);
      this.m.write64(this.listAddr + i * 8, INVALID_EPTP);
    }
    this.m.invept();
  }
  /** set_mem_access on one gfn of a view (and of its mirror, so the mirror keeps mapping like the view). */
  setMemAccess(index: number, gfn: bigint, access: number, suppressVe = true): void {
    if (access < 0 || access > 7) throw new RangeError(`unsupported access ${access}`);
    for (const i of [index, index + VMI_MIRROR_BASE]) {
      const t = this.tables.get(i);
      if (!t) { if (i === index) throw new RangeError(`no altp2m view ${index}`); continue; }
      t.setAccess(gfn << 12n, BigInt(access), suppressVe);
    }
    this.m.invept();
  }
  /** change_gfn: view `index` maps old_gfn onto the frame of new_gfn. */
  changeGfn(index: number, oldGfn: bigint, newGfn: bigint): void {
    const src = this.tables.get(0)!;
    const target = src.leaf(newGfn << 12n);
    for (const i of [index, index + VMI_MIRROR_BASE]) {
      const t = this.tables.get(i);
      if (!t) continue;
      t.setLeaf(oldGfn << 12n, target);
    }
    this.m.invept();
  }
}

/** The identity-style fill used when guest RAM is one contiguous machine range. */
export function contiguousFill(gfn0: bigint, mfn0: bigint, pages: bigint, flags = EPT_RWX | EPT_SUPPRESS_VE): P2mFill {
  return (t) => t.map(gfn0 << 12n, mfn0 << 12n, pages << 12n, flags);
}
