// EPT page tables as Xen's p2m-ept.c builds them (SDM Vol. 3C 29.3.2): a
// 4-level table of 8-byte entries, R/W/X in bits 2:0, memory type in 5:3,
// ignore-PAT 6, large page 7, accessed 8, dirty 9, suppress-#VE 63.
// Every table is created with suppress-#VE set in all 512 entries, as Xen's
// ept_set_middle_entry and ept_p2m_init do: a guest-physical address with
// nothing behind it exits to the hypervisor (MMIO, src/xen/vmexit/ept.ts)
// instead of raising #VE in the guest. Tables come from a FrameSource (the
// domain's p2m pool, src/xen/p2m-pool.ts) and go back to it on destroy().
import type { Machine } from '../machine.js';
import { PAGE_SIZE, type FrameSource } from './frames.js';

export const EPT_R = 1n, EPT_W = 2n, EPT_X = 4n, EPT_RWX = 7n;
export const EPT_MT_WB = 6n << 3n;
export const EPT_IPAT = 1n << 6n;
export const EPT_LARGE = 1n << 7n;
export const EPT_ACCESSED = 1n << 8n;
export const EPT_DIRTY = 1n << 9n;
export const EPT_SUPPRESS_VE = 1n << 63n;
const ADDR_MASK = 0x00003ffffffff000n;
/** Xen's EPT walk width: 4 levels of 9 bits above the page offset, so a gfn must be below 2^36 (ept_set_entry). */
export const EPT_GFN_BITS = 36n;

export type PageSize = '4k' | '2m' | '1g';

/** One EPT hierarchy (one "view" in altp2m terms). */
export class EptTable {
  readonly root: number; // machine address of the PML4
  /** Machine addresses of this hierarchy's tables (root first), for destroy(). */
  private readonly tableFrames: number[] = [];
  constructor(private readonly m: Machine, private readonly frames: FrameSource) {
    this.root = this.newTable();
  }

  /** A table from the frame source with suppress-#VE in every entry (Xen's ept_set_middle_entry). */
  private newTable(): number {
    const t = this.frames.alloc() * PAGE_SIZE;
    this.tableFrames.push(t);
    const dv = new DataView(this.m.mem.buffer, this.m.mem.byteOffset + t, PAGE_SIZE);
    for (let i = 0; i < 512; i++) dv.setBigUint64(i * 8, EPT_SUPPRESS_VE, true);
    return t;
  }

  /** Tables this hierarchy holds. */
  get tables(): number { return this.tableFrames.length; }

  /** Gives every table back to the frame source (p2m_teardown); the object must not be used afterwards. */
  destroy(): void {
    if (this.frames.free) for (const t of this.tableFrames) this.frames.free(t / PAGE_SIZE);
    this.tableFrames.length = 0;
  }

  // Table edits go straight to memory; callers of the public methods get one INVEPT at the end.
  private put(addr: number, v: bigint): void {
    new DataView(this.m.mem.buffer, this.m.mem.byteOffset + addr, 8).setBigUint64(0, v, true);
  }

  /** The EPTP for this table: WB, 4-level walk, optional A/D (Xen: 0x1e | root, +0x40 with A/D). */
  eptp(accessedDirty = false): bigint { return BigInt(this.root) | 0x1en | (accessedDirty ? 0x40n : 0n); }

  /** Machine address of the entry mapping `gpa` at `level` (4 = PML4 ... 1 = PT), creating tables down to it. */
  entryAddr(gpa: bigint, level: number, create = true): number | undefined {
    let table = this.root;
    for (let l = 4; l > level; l--) {
      const a = table + Number((gpa >> BigInt(12 + 9 * (l - 1))) & 511n) * 8;
      let e = this.m.read64(a);
      if ((e & 7n) === 0n) {
        if (!create) return undefined;
        const t = this.newTable();
        e = BigInt(t) | EPT_RWX;
        this.put(a, e);
      } else if (e & EPT_LARGE) {
        if (!create) return undefined;
        // Split the superpage into 512 entries of the next level with the same rights (as Xen's ept_split_super_page).
        const t = this.newTable();
        const step = 1n << BigInt(12 + 9 * (l - 2));
        const base = e & ADDR_MASK, keep = e & ~ADDR_MASK & ~(l - 1 > 1 ? 0n : EPT_LARGE);
        for (let i = 0; i < 512; i++) this.put(t + i * 8, (base + BigInt(i) * step) | keep);
        e = BigInt(t) | EPT_RWX;
        this.put(a, e);
      }
      table = Number(e & ADDR_MASK);
    }
    return table + Number((gpa >> BigInt(12 + 9 * (level - 1))) & 511n) * 8;
  }

  /** Maps [gpa, gpa+len) to machine address `hpa` with `flags` (permissions, suppress-#VE ...). */
  map(gpa: bigint, hpa: bigint, len: bigint, flags: bigint = EPT_RWX, size: PageSize = '4k'): void {
    const step = size === '1g' ? 1n << 30n : size === '2m' ? 1n << 21n : 4096n;
    const level = size === '1g' ? 3 : size === '2m' ? 2 : 1;
    if (gpa % step || hpa % step || len % step) throw new RangeError(`EPT map: unaligned ${size} mapping`);
    for (let off = 0n; off < len; off += step) {
      const a = this.entryAddr(gpa + off, level)!;
      this.put(a, (hpa + off) | flags | EPT_MT_WB | (level > 1 ? EPT_LARGE : 0n));
    }
    this.m.invept();
  }

  /**
   * The entry that maps `gpa`, as a 4 KiB leaf (a superpage's frame plus the page's offset in it, the
   * large-page bit dropped), without creating anything; undefined where the walk meets a not-present entry.
   */
  lookup(gpa: bigint): bigint | undefined {
    let table = this.root;
    for (let l = 4; l >= 1; l--) {
      const shift = BigInt(12 + 9 * (l - 1));
      const e = this.m.read64(table + Number((gpa >> shift) & 511n) * 8);
      if ((e & 7n) === 0n) return l === 1 ? e : undefined;
      if (l === 1) return e;
      if (l <= 3 && (e & EPT_LARGE)) {
        const off = gpa & ((1n << shift) - 1n) & ~0xfffn;
        return ((e & ADDR_MASK) + off) | (e & ~ADDR_MASK & ~EPT_LARGE);
      }
      table = Number(e & ADDR_MASK);
    }
    return undefined;
  }

  /** Reads or replaces the leaf entry for a 4 KiB-mapped gpa. */
  leaf(gpa: bigint): bigint { return this.m.read64(this.entryAddr(gpa, 1)!); }
  setLeaf(gpa: bigint, entry: bigint): void { this.put(this.entryAddr(gpa, 1)!, entry); this.m.invept(); }
  /** Changes the permission bits (and suppress-#VE) of a 4 KiB leaf, keeping the frame. */
  setAccess(gpa: bigint, perms: bigint, suppressVe?: boolean): void {
    let e = this.leaf(gpa);
    e = (e & ~7n) | (perms & 7n);
    if (suppressVe !== undefined) e = suppressVe ? e | EPT_SUPPRESS_VE : e & ~EPT_SUPPRESS_VE;
    this.setLeaf(gpa, e);
  }
}
