// What the JIT compiles: a region, the decoded blocks reachable from a hot entry block through
// direct branches, calls and fall-throughs, on the entry's 4 KiB page and on up to MAX_PAGES - 1
// pages those branches reach (v86 compiles per page; QEMU chains translation blocks, and its
// blocks may span two pages). Only blocks the run loop has decoded and still holds are taken, so
// compiling decodes nothing and touches no guest-visible state (no fetch, no A/D bits). A block is
// left out when the run loop could see it differently: bytes on a second page (B_PAGE2), or a
// decode cut at the page's end that a later decode, with the next page mapped, would extend.
// Offsets are linear, relative to the entry page's base. Only the entry page's blocks enter the
// region (B_JIT); a branch to another page checks at run time that the fetch TLB still maps that
// linear page to the frame compiled (gen.ts goTo), and a write to such a frame kills the region
// (codepages.ts). The decoded entries the generated code hands back to the interpreter are copied
// here (JIT_ENTRIES), as cache slots are reused while a region lives on.
import * as D from "../decode";
import { DCACHE, BLOCK_BYTES, DENTRY, JIT_ENTRIES, JIT_ENTRIES_BYTES, TLB_ENTRIES } from "../layout";
import { B_TAG } from "../codepages";
import { B_COUNT, B_PAGE2, B_JIT, blockTag, dcacheSlot } from "../run/blocks";
import { JIT_NONE } from "./cache";
import { tlbX, tlbBias } from "../mmu";

/** Blocks in one region at most (the entry index travels in B_JIT's low 7 bits, cache.ts). */
export const MAX_BLOCKS: i32 = 128;
/** Pages one region's blocks lie on at most: the entry's and three it branches to. */
export const MAX_PAGES: i32 = 4;
const hdrs = new StaticArray<usize>(MAX_BLOCKS);
const offs = new StaticArray<i64>(MAX_BLOCKS);
const pageOfBlock = new StaticArray<i32>(MAX_BLOCKS);
const pageDeltas = new StaticArray<i64>(MAX_PAGES);  // linear page base - the entry page's base
const pageHosts = new StaticArray<usize>(MAX_PAGES); // the Wasm address of the frame it maps to
/** Blocks in the region being compiled; block 0 is its entry. */
export let nBlocks: i32 = 0;
/** Pages of the region being compiled; page 0 is the entry's. */
export let nPages: i32 = 0;
let entriesUsed: usize = 0;
let linBase: u64 = 0;

@inline export function blockHdr(k: i32): usize { return unchecked(hdrs[k]); }
@inline export function blockOff(k: i32): i64 { return unchecked(offs[k]); }
/** The page (0 the entry's) block `k` lies on. */
@inline export function blockPage(k: i32): i32 { return unchecked(pageOfBlock[k]); }
@inline export function pageDelta(p: i32): i64 { return unchecked(pageDeltas[p]); }
@inline export function pageHost(p: i32): usize { return unchecked(pageHosts[p]); }
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

/** The region's block at offset `off` (from the entry page's base), or -1. */
export function blockIndex(off: i64): i32 {
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

/** Offset just past block `h` at offset `off`. */
function blockEnd(h: usize, off: i64): i64 {
  const n = load<u32>(h, B_COUNT);
  let end = off;
  for (let i: u32 = 0; i < n; i++) end += <i64>load<u8>(h + DENTRY + <usize>i * DENTRY, D.D_LEN);
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
  if (blockEnd(h, <i64>off) >= 4096 && load<u8>(last, D.D_ENDS) == 0) return 0;
  return h;
}

/** The region's page holding offset `t`: its index, adding it if the fetch TLB maps it now; -1 if not. */
function pageFor(t: i64): i32 {
  const delta = t & ~<i64>0xfff;
  for (let p = 0; p < nPages; p++) if (unchecked(pageDeltas[p]) == delta) return p;
  if (nPages >= MAX_PAGES) return -1;
  const la = linBase + <u64>delta;
  const x = tlbX + ((<usize>(la >> 12) & (TLB_ENTRIES - 1)) << 4);
  if (load<u64>(x) != (la >> 12) + tlbBias) return -1;
  unchecked(pageDeltas[nPages] = delta);
  unchecked(pageHosts[nPages] = <usize>load<u64>(x, 8));
  return nPages++;
}

function add(t: i64): void {
  if (nBlocks >= MAX_BLOCKS || blockIndex(t) >= 0) return;
  const p = pageFor(t);
  if (p < 0) return;
  const h = cached(unchecked(pageHosts[p]), <u32>(t & 0xfff));
  if (h == 0) return;
  const j = load<u32>(h, B_JIT);
  if (p == 0 && j != 0 && j != JIT_NONE) return; // entered through another region
  unchecked(hdrs[nBlocks] = h); unchecked(offs[nBlocks] = t); unchecked(pageOfBlock[nBlocks] = p); nBlocks++;
}

/**
 * Gathers the region entered at the block for Wasm address `key`, linear address `la`: that block,
 * then the blocks it reaches that no other region enters through (so each hot block is entered in
 * one region; a branch into another region goes through the run loop), on at most MAX_PAGES pages
 * the fetch TLB maps now; false if the block at `key` cannot be in one.
 */
export function collect(key: usize, la: u64): bool {
  linBase = la & ~<u64>0xfff;
  nBlocks = 0;
  nPages = 1;
  unchecked(pageDeltas[0] = 0);
  unchecked(pageHosts[0] = key & ~(<usize>0xfff));
  add(<i64>(key & 0xfff));
  if (nBlocks == 0) return false;
  for (let k = 0; k < nBlocks; k++) {
    const h = unchecked(hdrs[k]);
    const n = load<u32>(h, B_COUNT);
    const last = h + DENTRY + <usize>(n - 1) * DENTRY;
    const end = blockEnd(h, unchecked(offs[k]));
    const op = <i32>load<u16>(last, D.D_OP);
    if (op == D.OP_JCC) { add(end + load<i64>(last, D.D_IMM)); add(end); }
    else if (op == D.OP_JMP) add(end + load<i64>(last, D.D_IMM));
    else if (op == D.OP_CALL) { add(end + load<i64>(last, D.D_IMM)); add(end); } // and where it returns
    else if (load<u8>(last, D.D_ENDS) == 0) add(end);
  }
  return true;
}
