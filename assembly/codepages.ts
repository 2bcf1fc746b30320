// Decoded code by machine page (after v86's src/rust/jit.rs page tracking and QEMU's physically
// tagged translation blocks). A decoded block is found by the Wasm address of its first byte in
// machine memory, so EPT views and linear aliases that map the same frame share decoded code; a
// write to a frame drops only the blocks with bytes on it (mmu.ts codeWritten). Nothing about
// permissions is cached: the run loop translates RIP through the fetch TLB, tagged by EPT view
// and CPL, on every block entry (run/loop.ts).
import { BLOCK_INDEX, BLOCK_INDEX_BYTES, DCACHE, BLOCK_BYTES } from "./layout";

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
  codeEpoch++;
}
