// Decoded code by machine page (after v86's src/rust/jit.rs page tracking and QEMU's physically
// tagged translation blocks). A decoded block is found by the Wasm address of its first byte in
// machine memory, so EPT views and linear aliases that map the same frame share decoded code; a
// write to a frame drops only the blocks with bytes on it (mmu.ts codeWritten). Nothing about
// permissions is cached: the run loop translates RIP through the fetch TLB, tagged by EPT view
// and CPL, on every block entry (run/loop.ts).
import { BLOCK_INDEX, BLOCK_INDEX_BYTES, DCACHE, BLOCK_BYTES } from "./layout";
import { B_JIT } from "./run/blocks";

/** Offset of a block's tag in its header: u64 Wasm address of its first byte | dgen << 32; 0 = empty. */
export const B_TAG = 0;

/**
 * Bumped whenever what the running block was fetched through may have changed (a write to a
 * frame holding decoded code, a TLB flush): the run loop leaves the block after the current
 * instruction and looks up the next one afresh.
 */
export let codeEpoch: u32 = 0;

/** Records which Wasm pages the block in `slot` was decoded from (page2 0: one page only). */
export function indexBlock(slot: u32, page1: u32, page2: u32): void {
  const x = BLOCK_INDEX + (<usize>slot << 3);
  store<u32>(x, page1);
  store<u32>(x, page2, 4);
}

/** Drops every block with bytes on Wasm page `page` (a write reached the frame). */
export function dropBlocksOnPage(page: u32): void {
  for (let slot: usize = 0; slot < BLOCK_INDEX_BYTES >> 3; slot++) {
    const x = BLOCK_INDEX + (slot << 3);
    if (load<u32>(x) == page || load<u32>(x, 4) == page) {
      store<u64>(x, 0);
      store<u64>(DCACHE + slot * BLOCK_BYTES, 0, B_TAG);
    }
  }
  killRegionsOn(page);
  codeEpoch++;
}

// ---- compiled regions' other pages (jit/region.ts) ----------------------------------------------
// A compiled region may hold code of pages besides its entry page, where it is not entered: a write
// to one of those must stop every way into it. Kept as (page, table index) pairs, cleared when the
// JIT drops every region (jit/cache.ts jitFlush), which it does first when a region would not fit.
const MAX_REGION_PAGES: i32 = 4096;
const regionPages = new StaticArray<u64>(MAX_REGION_PAGES);
let nRegionPages: i32 = 0;

/** Room for `n` more pairs. */
export function regionPagesFree(n: i32): bool { return nRegionPages + n <= MAX_REGION_PAGES; }
export function notePageInRegion(page: u32, idx: u32): void {
  if (nRegionPages < MAX_REGION_PAGES) unchecked(regionPages[nRegionPages++] = (<u64>page << 32) | <u64>idx);
}
export function forgetRegionPages(): void { nRegionPages = 0; }

/** Clears B_JIT in every block that enters a region holding code of `page`. */
function killRegionsOn(page: u32): void {
  for (let i = 0; i < nRegionPages; i++) {
    const r = unchecked(regionPages[i]);
    if (<u32>(r >> 32) != page) continue;
    const idx = <u32>r;
    for (let slot: usize = 0; slot < BLOCK_INDEX_BYTES >> 3; slot++) {
      const h = DCACHE + slot * BLOCK_BYTES;
      const j = load<u32>(h, B_JIT);
      if (j != 0 && j != 0xffffffff && (j >> 7) == idx) store<u32>(h, 0, B_JIT); // not JIT_NONE (jit/cache.ts)
    }
    unchecked(regionPages[i] = unchecked(regionPages[--nRegionPages]));
    i--;
  }
}
