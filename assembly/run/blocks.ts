// Decoded blocks: runs of up to BLOCK_INSNS decoded instructions that end at a control transfer or
// a system instruction, cached so the run loop decodes each instruction once (the interpreter's
// analogue of QEMU's translation blocks). Not architecture: a block only caches what decoding the
// bytes gives, plus each instruction's cost in virtual cycles. Blocks are found by the machine
// address of their first byte and dropped per page (codepages.ts); whether this view and CPL may
// fetch them is checked on every entry (run/loop.ts).
import * as D from "../decode";
import { DENTRY, DCACHE_ENTRIES, BLOCK_INSNS, COSTS, COSTS_BYTES, TLB_ENTRIES, DECODE_PROBE } from "../layout";
import { stop, clearStop } from "../fault";
import { decode } from "../decode";
import { dgen, tlbX, tlbBias } from "../mmu";
import { indexBlock, B_TAG } from "../codepages";
import { nBreakpoints, breakOnVmfunc, isBreakpoint } from "./debug";

/** Decoded-instruction cache misses (instructions decoded), for statistics. */
export let decodeCount: u64 = 0;

/** Every operation costs its cost class's cycles (assembly/ops.ts) until the host prices it. */
export function costsInit(): void {
  // The op table outgrowing the cost region traps here (the condition folds at compile time).
  if (<usize>D.OP_COUNT > (COSTS_BYTES >> 2)) unreachable();
  for (let op = 0; op < D.OP_COUNT; op++) store<u32>(COSTS + (<usize>op << 2), D.opDefaultCycles(op));
}
/** Sets one operation's cycles (an id outside the op table is ignored). */
export function setCost(op: i32, cycles: u32): void {
  if (op < 0 || op >= D.OP_COUNT) return;
  store<u32>(COSTS + (<usize>op << 2), cycles);
  dgen++; // decoded entries carry their cost: decode again
}
/** Virtual cycles one retired `op` costs. */
@inline export function opCost(op: i32): u32 { return load<u32>(COSTS + (<usize>op << 2)); }

// Block header layout (the first DENTRY bytes of a block), after the tag (codepages.ts B_TAG).
export const B_COUNT = 8;  // u32 instructions in the block
export const B_PAGE2 = 12; // u32 Wasm page number of the page its bytes run into (0 = none)
export const B_COST = 16;  // u64 virtual cycles of the whole block
export const B_LA = 24;    // u64 linear RIP it was decoded at (breakpoints split blocks by linear address)
export const B_JIT = 32;   // u32 the JIT's compiled region entered here (jit/cache.ts): 0 none yet, JIT_NONE never
export const B_HITS = 36;  // u32 instructions its entries retired, counted towards compiling it
export const B_JCALLS = 40; // u32 calls of its region entered here (run/loop.ts runCompiled)
export const B_JINSNS = 48; // u64 instructions those calls retired

/** The cache slot of the block whose first byte is at Wasm address `key` (direct-mapped). */
@inline export function dcacheSlot(key: usize): u32 { return (<u32>key ^ <u32>(key >> 13)) & (DCACHE_ENTRIES - 1); }

/** The tag of a block decoded now from the byte at Wasm address `key`. */
@inline export function blockTag(key: usize): u64 { return <u64>key | (<u64>dgen << 32); }

/** Ends a block: control transfers, system instructions, and anything that changes interruptibility (the op
 *  table's ENDS_BLOCK attribute, which the decoder copies into the entry). */
@inline function endsBlock(e: usize): bool { return load<u8>(e, D.D_ENDS) != 0; }

/**
 * Decodes instructions from linear `r` into the entries after header `h` until one ends the block:
 * the linear address after the last one, with count and cost in the header; 0 when the first
 * instruction cannot be fetched (its fault is raised when it runs).
 */
function decodeRun(h: usize, r: u64): u64 {
  let la = r;
  let n: u32 = 0;
  let cost: u64 = 0;
  while (n < BLOCK_INSNS) {
    if (n > 0 && nBreakpoints != 0 && isBreakpoint(la)) break; // a breakpoint starts its own block
    const e = h + DENTRY + <usize>n * DENTRY;
    decode(e, la);
    decodeCount++;
    if (stop) {
      if (n == 0) return 0;
      clearStop(); // the fault belongs to a later instruction: it is raised when that one runs
      break;
    }
    const op = <i32>load<u16>(e, D.D_OP);
    const c = opCost(op);
    store<u32>(e, c, D.D_COST);
    cost += <u64>c;
    if (op == D.OP_VMFUNC && breakOnVmfunc && n > 0) break; // VMFUNC starts its own block too
    la += <u64>load<u8>(e, D.D_LEN);
    n++;
    if (endsBlock(e)) break;
  }
  store<u32>(h, n, B_COUNT);
  store<u64>(h, cost, B_COST);
  return la;
}

/**
 * Decodes the block at linear `r` (machine byte at Wasm address `key`) into cache slot `slot`,
 * header `h`; false when the first instruction cannot be fetched. A `probe` (decodeScratchBlock)
 * only decodes. Its second caller also keeps this function out of the run loop, which Binaryen
 * would otherwise inline there, costing the loop ~1 % more host instructions (cachegrind).
 */
export function buildBlock(h: usize, slot: u32, r: u64, key: usize, probe: bool = false): bool {
  const la = decodeRun(h, r);
  if (la == 0) { store<u64>(h, 0, B_TAG); return false; }
  if (probe) return true;
  // The bytes may run into the next linear page: record the page they were fetched from there
  // (decode just filled its fetch TLB entry), so an entry through another mapping is checked.
  let page2: u32 = 0;
  const last = la - 1;
  if ((last >> 12) != (r >> 12)) {
    const x = tlbX + ((<usize>(last >> 12) & (TLB_ENTRIES - 1)) << 4);
    page2 = load<u64>(x) == (last >> 12) + tlbBias ? <u32>(load<u64>(x, 8) >> 12) : 0xffffffff;
  }
  indexBlock(slot, <u32>(key >> 12), page2);
  store<u64>(h, blockTag(key), B_TAG);
  store<u32>(h, page2, B_PAGE2);
  store<u64>(h, r, B_LA);
  store<u64>(h, 0, B_JIT); // no region yet, nothing counted (B_HITS)
  store<u32>(h, 0, B_JCALLS);
  store<u64>(h, 0, B_JINSNS);
  return true;
}

/**
 * Decodes the scratch buffer (at linear address 0) as the run loop would decode a block, into the
 * probe block, for the host's checks of where blocks end: the number of instructions in it.
 */
export function decodeScratchBlock(): u32 {
  D.decodeFromScratch = true;
  clearStop();
  const ok = buildBlock(DECODE_PROBE, 0, 0, 0, true);
  D.decodeFromScratch = false;
  clearStop();
  return ok ? load<u32>(DECODE_PROBE, B_COUNT) : 0;
}
