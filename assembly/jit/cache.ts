// The JIT's bookkeeping (after v86's src/rust/jit.rs: hotness counters, a table of compiled
// entries cleared wholesale when full): a decoded block whose entries have retired `hot`
// instructions becomes the entry of a compiled region (jit/region.ts, jit/gen.ts); the host
// instantiates the module and places its function in the CPU's function table (src/jit/), at the
// index the block's header keeps (B_JIT).
// A region is entered through the blocks of its entry page (B_JIT in their headers): whatever drops
// or rebuilds them (a write to the page, a host write, a cost change) drops the way in (codepages.ts,
// run/blocks.ts buildBlock); a write to another page it holds code of clears them all (codepages.ts
// notePageInRegion).
import { DCACHE, DCACHE_ENTRIES, BLOCK_BYTES } from "../layout";
import { B_JIT, B_HITS, B_COUNT } from "../run/blocks";
import { collect, resetEntries, entriesFull, nBlocks, blockHdr, blockPage, nPages, pageHost, MAX_PAGES } from "./region";
import { rip } from "../state";
import { notePageInRegion, forgetRegionPages, regionPagesFree } from "../codepages";
import { genRegion } from "./gen";
import { module } from "./emit";
import { JIT_MODULE } from "../layout";

// The host: compiles the module at `addr` (`len` bytes) into the function table; returns its index,
// 0 when it could not, -1 when the table is full. jit_flush: every index may be reused.
@external("env", "jit_compile") declare function hostCompile(addr: usize, len: u32): i32;
@external("env", "jit_flush") declare function hostFlush(): void;

/** Compiled code runs (the host's --jit on). */
export let jitOn: bool = false;
/**
 * Instructions a block's entries retire before its region is compiled (tests lower it to compile
 * everything at once). V8 compiles a region's function twice, Liftoff at its first call and
 * TurboFan once it is hot, ~1 ms + ~1-3 ms per KB of body on this machine: a region saves ~4 ns per
 * instruction over the interpreter, so it must run ~10^6 instructions to pay: past retirement is the
 * forecast. (Leaving the page's cold blocks out of the region compiles less but splits loops whose
 * parts turn hot at different times: the CRC workload ran 1,096 -> ~700 MIPS in 11 regions.)
 */
let hot: u32 = 1_000_000;
export function setJit(on: bool, threshold: u32): void { jitOn = on; if (threshold != 0) hot = threshold; }
/** B_JIT of a block that cannot start a region (until it is decoded again). */
export const JIT_NONE: u32 = 0xffffffff;

export let regionsCompiled: u32 = 0;
export let regionsRefused: u32 = 0;
export let flushes: u32 = 0;
/** Pages besides their entry page that compiled regions hold code of (statistics). */
export let otherPages: u32 = 0;

/** B_JIT of a block in a region: the function's table index and the block's index in the region. */
@inline export function jitTableIndex(j: u32): u32 { return j >> 7; }
@inline export function jitEntryIndex(j: u32): i32 { return <i32>(j & 127); }

/**
 * Counts an entry of block `h` (first byte at Wasm address `key`). When it turns hot, compiles
 * its region (jit/region.ts) and points every block of it there; returns the block's B_JIT.
 */
export function jitConsider(h: usize, key: usize): u32 {
  const hits = load<u32>(h, B_HITS) + load<u32>(h, B_COUNT);
  store<u32>(h, hits, B_HITS);
  if (hits < hot) return 0;
  if (entriesFull() || !regionPagesFree(MAX_PAGES - 1)) jitFlush();
  let idx: i32 = 0;
  if (collect(key, rip)) {
    const end = genRegion();
    if (end != 0) idx = hostCompile(JIT_MODULE, module(end));
  }
  if (idx < 0) { jitFlush(); return 0; }
  if (idx == 0) { store<u32>(h, JIT_NONE, B_JIT); regionsRefused++; return 0; }
  // Entered only on its entry page; a write to one of its other pages kills it (codepages.ts).
  for (let k = 0; k < nBlocks; k++) if (blockPage(k) == 0) store<u32>(blockHdr(k), (<u32>idx << 7) | <u32>k, B_JIT);
  for (let p = 1; p < nPages; p++) { notePageInRegion(<u32>(pageHost(p) >> 12), <u32>idx); otherPages++; }
  regionsCompiled++;
  return load<u32>(h, B_JIT);
}

/** Drops every compiled region (the table or the entry pool is full). */
export function jitFlush(): void {
  for (let slot: usize = 0; slot < <usize>DCACHE_ENTRIES; slot++) store<u64>(DCACHE + slot * BLOCK_BYTES, 0, B_JIT);
  resetEntries();
  forgetRegionPages();
  hostFlush();
  flushes++;
}
