// A domain's p2m pool: the frames its EPT tables (host p2m and altp2m views)
// come from, with a fixed size. Xen's HAP code takes page-table pages for a
// domain's p2ms from that domain's paging pool (p2m_alloc_ptp -> p2m_alloc_page
// -> hap_alloc_p2m_page in xen/arch/x86/mm/hap/hap.c), sized by the toolstack
// (`xl` shadow_memory; XEN_DOMCTL_set_paging_mempool_size). When the pool is
// empty the table allocation fails and the p2m operation returns -ENOMEM
// (ept_set_entry: GUEST_TABLE_MAP_FAILED); nothing else is affected, since
// the pool was taken out of the heap when the domain was built. Freed tables
// go back to the pool's free list (hap_free_p2m_page) and are reused.
//
// Default size, as libxl computes it for an HVM guest (tools/libs/light/
// libxl_utils.c, libxl_get_required_shadow_memory): 4 * (256 * vcpus +
// 2 * memory-in-MiB) KiB, i.e. 256 pages per vCPU plus 2 pages per MiB of RAM.
import { PAGE_SIZE, type FrameAllocator, type FrameSource } from './frames.js';

/** libxl's default paging memory for an HVM guest, in 4 KiB pages. */
export function defaultP2mPoolPages(memMiB: number, vcpus: number): number {
  return 256 * vcpus + 2 * memMiB;
}

/** Thrown by P2mPool.alloc() when the pool is empty: the p2m operation answers -ENOMEM. */
export class P2mPoolExhausted extends Error {
  constructor(readonly pages: number) { super(`p2m pool exhausted (${pages} pages)`); }
}

export class P2mPool implements FrameSource {
  private readonly freeList: number[] = [];
  private fresh: number;
  private inUse = 0;
  /** Allocations refused because the pool was empty (Xen counts these as p2m_pages failures). */
  failures = 0;

  /** Sets `pages` frames of the heap aside for this pool. */
  constructor(private readonly heap: FrameAllocator, private readonly fill: (addr: number, len: number) => void, readonly pages: number) {
    heap.reserve(pages);
    this.fresh = pages;
  }

  alloc(): number {
    if (this.freeList.length) {
      const f = this.freeList.pop()!;
      this.fill(f * PAGE_SIZE, PAGE_SIZE);
      this.inUse++;
      return f;
    }
    if (this.fresh === 0) { this.failures++; throw new P2mPoolExhausted(this.pages); }
    this.fresh--;
    this.inUse++;
    return this.heap.allocReserved();
  }

  free(frame: number): void {
    this.inUse--;
    this.freeList.push(frame);
  }

  /** Pages holding tables now, and pages left. */
  get used(): number { return this.inUse; }
  get available(): number { return this.pages - this.inUse; }
}
