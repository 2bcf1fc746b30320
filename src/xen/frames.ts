// Machine-frame allocator: Xen's heap of free machine pages. The hypervisor
// takes guest RAM, EPT tables, the EPTP list, #VE pages and trace buffers
// from here, all inside the CPU's machine memory.
import type { Machine } from '../machine.js';

export const PAGE_SIZE = 4096;

export class FrameAllocator {
  private next: number;
  constructor(private readonly m: Machine, firstFrame: number, private readonly limitFrame = m.memBytes / PAGE_SIZE) {
    this.next = firstFrame;
  }
  /** Allocates `n` contiguous zeroed frames aligned to `align` frames; returns the first frame number. */
  alloc(n = 1, align = 1): number {
    const start = Math.ceil(this.next / align) * align;
    if (start + n > this.limitFrame) {
      throw new RangeError(`out of machine memory: need ${n} frame(s), ${Math.max(0, this.limitFrame - start)} free`);
    }
    this.next = start + n;
    this.m.fillPhys(start * PAGE_SIZE, n * PAGE_SIZE, 0);
    return start;
  }
  get freeFrames(): number { return this.limitFrame - this.next; }
}
