// Machine-frame allocator: Xen's heap of free machine pages. The hypervisor
// takes guest RAM, EPT tables, the EPTP list, #VE pages and trace buffers
// from here, all inside the CPU's machine memory. A part of the heap can be
// set aside (reserve) for a domain's p2m pool (src/xen/p2m-pool.ts), as Xen's
// paging allocator takes its pages out of the domain heap up front
// (hap_set_allocation): other users of the heap cannot eat into it.

export const PAGE_SIZE = 4096;

/** What the heap needs of the machine: zeroing frames before handing them out. */
export interface FrameMemory { readonly memBytes: number; fillPhys(addr: number, len: number, byte: number): void }

/** Something that hands out zeroed 4 KiB machine frames one at a time (the heap, or a p2m pool). */
export interface FrameSource {
  /** Returns the frame number of a zeroed frame; throws when none is left. */
  alloc(): number;
  /** Gives a frame back (a no-op for the heap, which never frees). */
  free?(frame: number): void;
}

export class FrameAllocator implements FrameSource {
  private next: number;
  private reserved = 0;
  constructor(private readonly m: FrameMemory, firstFrame: number, private readonly limitFrame = m.memBytes / PAGE_SIZE) {
    this.next = firstFrame;
  }
  /** Allocates `n` contiguous zeroed frames aligned to `align` frames; returns the first frame number. */
  alloc(n = 1, align = 1): number {
    const start = Math.ceil(this.next / align) * align;
    if (start + n > this.limitFrame - this.reserved) {
      throw new RangeError(`out of machine memory: need ${n} frame(s), ${Math.max(0, this.limitFrame - this.reserved - start)} free`);
    }
    return this.take(start, n);
  }
  private take(start: number, n: number): number {
    this.next = start + n;
    this.m.fillPhys(start * PAGE_SIZE, n * PAGE_SIZE, 0);
    return start;
  }
  /** Sets `n` frames aside for allocReserved(); throws if the heap has not that many free. */
  reserve(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.freeFrames) throw new RangeError(`cannot reserve ${n} frame(s): ${this.freeFrames} free`);
    this.reserved += n;
  }
  /** One frame out of the reservation (the p2m pool's allocation). */
  allocReserved(): number {
    if (this.reserved <= 0) throw new RangeError('no reserved frame left');
    this.reserved--;
    return this.take(this.next, 1);
  }
  /** Frames still free for ordinary allocations (the reservation excluded). */
  get freeFrames(): number { return this.limitFrame - this.reserved - this.next; }
}
