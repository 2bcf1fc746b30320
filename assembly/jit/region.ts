// What the JIT compiles: a region, the decoded blocks of one 4 KiB page reachable from a hot entry
// block through direct branches and fall-throughs (v86 compiles per page too, src/rust/jit.rs;
// QEMU chains translation blocks). Only blocks the run loop has decoded and still holds are taken,
// so compiling decodes nothing and touches no guest-visible state (no fetch, no A/D bits). A block
// is left out when the run loop could see it differently: bytes on a second page (B_PAGE2), or a
// decode cut at the page's end that a later decode, with the next page mapped, would extend.
// The decoded entries the generated code hands back to the interpreter are copied here
// (JIT_ENTRIES), as cache slots are reused while a region lives on.
import * as D from "../decode";
import { DCACHE, BLOCK_BYTES, DENTRY, JIT_ENTRIES, JIT_ENTRIES_BYTES } from "../layout";
import { B_TAG } from "../codepages";
import { B_COUNT, B_PAGE2, B_JIT, blockTag, dcacheSlot } from "../run/blocks";
import { JIT_NONE } from "./cache";

/** Blocks in one region at most (the entry index travels in B_JIT's low 7 bits, cache.ts). */
export const MAX_BLOCKS: i32 = 128;
const hdrs = new StaticArray<usize>(MAX_BLOCKS);
const offs = new StaticArray<u32>(MAX_BLOCKS);
/** Blocks in the region being compiled; block 0 is its entry. */
export let nBlocks: i32 = 0;
let entriesUsed: usize = 0;

@inline export function blockHdr(k: i32): usize { return unchecked(hdrs[k]); }
@inline export function blockOff(k: i32): u32 { return unchecked(offs[k]); }
/** Whether the region's block `k` follows a CALL of the region (a RET may come back to it). */
export function isReturnSite(k: i32): bool {
  const off = unchecked(offs[k]);
  for (let i = 0; i < nBlocks; i++) {
    const h = unchecked(hdrs[i]);
    const n = load<u32>(h, B_COUNT);
    const last = h + DENTRY + <usize>(n - 1) * DENTRY;
    if (load<u16>(last, D.D_OP) == <u16>D.OP_CALL && blockEnd(h, unchecked(offs[i])) == off) return true;
  }
  return false;
}

/** The region's block at page offset `off`, or -1. */
export function blockIndex(off: u32): i32 {
  for (let k = 0; k < nBlocks; k++) if (unchecked(offs[k]) == off) return k;
  return -1;
}

// Copies are shared by content (an open-addressed table of pool slots + 1), so the same code
// compiles to the same module bytes and the host can reuse its compiled module (src/jit/host.ts).
const HASH_SLOTS: u32 = 4096; // twice the pool's entries
const hashTab = new StaticArray<u32>(<i32>HASH_SLOTS);
/** What the interpreter reads of an entry: from D_OP on (decode() writes all of it; D_TAG/D_GEN are unused). */
const ENTRY_FROM: usize = D.D_OP;

function entryHash(e: usize): u32 {
  let h: u32 = 2166136261;
  for (let i = ENTRY_FROM; i < DENTRY; i += 4) h = (h ^ load<u32>(e + i)) * 16777619;
  return h;
}
function sameEntry(a: usize, b: usize): bool {
  for (let i = ENTRY_FROM; i < DENTRY; i += 4) if (load<u32>(a + i) != load<u32>(b + i)) return false;
  return true;
}

/** A copy of decoded entry `e` the region may keep (an identical one if there is); 0 when the pool is full. */
export function copyEntry(e: usize): usize {
  let h = entryHash(e) & (HASH_SLOTS - 1);
  while (unchecked(hashTab[h]) != 0) {
    const c = JIT_ENTRIES + <usize>(unchecked(hashTab[h]) - 1) * DENTRY;
    if (sameEntry(c, e)) return c;
    h = (h + 1) & (HASH_SLOTS - 1);
  }
  if (entriesUsed + DENTRY > JIT_ENTRIES_BYTES) return 0;
  const c = JIT_ENTRIES + entriesUsed;
  memory.fill(c, 0, ENTRY_FROM);
  memory.copy(c + ENTRY_FROM, e + ENTRY_FROM, DENTRY - ENTRY_FROM);
  unchecked(hashTab[h] = <u32>(entriesUsed / DENTRY) + 1);
  entriesUsed += DENTRY;
  return c;
}
/** Every region is gone (jit/cache.ts jitFlush): the pool is free again. */
export function resetEntries(): void {
  entriesUsed = 0;
  for (let i: u32 = 0; i < HASH_SLOTS; i++) unchecked(hashTab[i] = 0);
}
export function entriesFull(): bool { return entriesUsed + 256 * DENTRY > JIT_ENTRIES_BYTES; }

/** Page offset just past block `h` at offset `off`. */
function blockEnd(h: usize, off: u32): u32 {
  const n = load<u32>(h, B_COUNT);
  let end = off;
  for (let i: u32 = 0; i < n; i++) end += <u32>load<u8>(h + DENTRY + <usize>i * DENTRY, D.D_LEN);
  return end;
}

/** The block the run loop holds for the byte at Wasm address page + off, if a region may take it. */
function cached(page: usize, off: u32): usize {
  const key = page + <usize>off;
  const h = DCACHE + <usize>dcacheSlot(key) * BLOCK_BYTES;
  if (load<u64>(h, B_TAG) != blockTag(key) || load<u32>(h, B_PAGE2) != 0) return 0;
  const n = load<u32>(h, B_COUNT);
  if (n == 0) return 0;
  const last = h + DENTRY + <usize>(n - 1) * DENTRY;
  if (blockEnd(h, off) >= 4096 && load<u8>(last, D.D_ENDS) == 0) return 0;
  return h;
}

function add(page: usize, t: i64): void {
  if (t < 0 || t >= 4096 || nBlocks >= MAX_BLOCKS || blockIndex(<u32>t) >= 0) return;
  const h = cached(page, <u32>t);
  if (h == 0) return;
  const j = load<u32>(h, B_JIT);
  if (j != 0 && j != JIT_NONE) return; // compiled in another region
  unchecked(hdrs[nBlocks] = h); unchecked(offs[nBlocks] = <u32>t); nBlocks++;
}

/**
 * Gathers the region entered at the block for Wasm address `key`: that block, then the blocks of
 * its page it reaches that no other region holds yet (so each hot block is compiled once; a branch
 * into another region goes through the run loop); false if the block at `key` cannot be in one.
 */
export function collect(key: usize): bool {
  const page = key & ~(<usize>0xfff);
  nBlocks = 0;
  add(page, <i64>(key & 0xfff));
  if (nBlocks == 0) return false;
  for (let k = 0; k < nBlocks; k++) {
    const h = unchecked(hdrs[k]);
    const n = load<u32>(h, B_COUNT);
    const last = h + DENTRY + <usize>(n - 1) * DENTRY;
    const end = <i64>blockEnd(h, unchecked(offs[k]));
    const op = <i32>load<u16>(last, D.D_OP);
    if (op == D.OP_JCC) { add(page, end + load<i64>(last, D.D_IMM)); add(page, end); }
    else if (op == D.OP_JMP) add(page, end + load<i64>(last, D.D_IMM));
    else if (op == D.OP_CALL) { add(page, end + load<i64>(last, D.D_IMM)); add(page, end); } // and where it returns
    else if (load<u8>(last, D.D_ENDS) == 0) add(page, end);
  }
  return true;
}
