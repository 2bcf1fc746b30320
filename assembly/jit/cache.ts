// The JIT's bookkeeping (after v86's src/rust/jit.rs: hotness counters, a table of compiled
// entries cleared wholesale when full): a decoded block entered HOT times becomes the entry of a
// compiled region (jit/region.ts, jit/gen.ts); the host instantiates the module and places its
// function in the CPU's function table (src/jit/), at the index the block's header keeps (B_JIT).
// A region lives exactly as long as its entry block's header: whatever drops or rebuilds that
// block (a write to its page, a host write, a cost change) drops the region with it (codepages.ts,
// run/blocks.ts buildBlock), and every block of a region lies on the entry's page.
import { DCACHE, DCACHE_ENTRIES, BLOCK_BYTES } from "../layout";
import { B_JIT, B_HITS } from "../run/blocks";
import { collect, resetEntries, entriesFull } from "./region";
import { genRegion } from "./gen";
import { module } from "./emit";
import { JIT_MODULE } from "../layout";

// The host: compiles the module at `addr` (`len` bytes) into the function table; returns its index,
// 0 when it could not, -1 when the table is full. jit_flush: every index may be reused.
@external("env", "jit_compile") declare function hostCompile(addr: usize, len: u32): i32;
@external("env", "jit_flush") declare function hostFlush(): void;

/** Compiled code runs (the host's --jit on). */
export let jitOn: bool = false;
export function setJit(on: bool): void { jitOn = on; }
/** B_JIT of a block that cannot start a region (until it is decoded again). */
export const JIT_NONE: u32 = 0xffffffff;
/** Entries of a block before its region is compiled. */
const HOT: u32 = 64;

export let regionsCompiled: u32 = 0;
export let regionsRefused: u32 = 0;
export let flushes: u32 = 0;

/** Counts an entry of block `h` (first byte at Wasm address `key`); the region's index once compiled. */
export function jitConsider(h: usize, key: usize): u32 {
  const hits = load<u32>(h, B_HITS) + 1;
  store<u32>(h, hits, B_HITS);
  if (hits < HOT) return 0;
  if (entriesFull()) jitFlush();
  let idx: i32 = 0;
  if (collect(key)) {
    const end = genRegion();
    if (end != 0) idx = hostCompile(JIT_MODULE, module(end));
  }
  if (idx < 0) { jitFlush(); return 0; }
  if (idx == 0) { store<u32>(h, JIT_NONE, B_JIT); regionsRefused++; return 0; }
  store<u32>(h, <u32>idx, B_JIT);
  regionsCompiled++;
  return <u32>idx;
}

/** Drops every compiled region (the table or the entry pool is full). */
export function jitFlush(): void {
  for (let slot: usize = 0; slot < <usize>DCACHE_ENTRIES; slot++) store<u64>(DCACHE + slot * BLOCK_BYTES, 0, B_JIT);
  resetEntries();
  hostFlush();
  flushes++;
}
