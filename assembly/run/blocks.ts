// Decoded blocks: runs of up to BLOCK_INSNS decoded instructions that end at a control transfer or
// a system instruction, cached so the run loop decodes each instruction once (the interpreter's
// analogue of QEMU's translation blocks). Not architecture: a block only caches what decoding the
// bytes gives, plus each instruction's cost in virtual cycles. Blocks are found by the machine
// address of their first byte and dropped per page (codepages.ts); whether this view and CPL may
// fetch them is checked on every entry (run/loop.ts).
import * as D from "../decode";
import { DENTRY, BLOCK_INSNS, COSTS, TLB_ENTRIES } from "../layout";
import { stop, clearStop } from "../fault";
import { decode } from "../decode";
import { dgen, tlbX, tlbBias } from "../mmu";
import { indexBlock, B_TAG } from "../codepages";
import { nBreakpoints, breakOnVmfunc, isBreakpoint } from "./debug";

/** Decoded-instruction cache misses (instructions decoded), for statistics. */
export let decodeCount: u64 = 0;

export function costsInit(): void { for (let i = 0; i < 256; i++) store<u32>(COSTS + (<usize>i << 2), 1); }
export function setCost(op: i32, cycles: u32): void {
  store<u32>(COSTS + (<usize>(op & 255) << 2), cycles);
  dgen++; // decoded entries carry their cost: decode again
}

// Block header layout (the first DENTRY bytes of a block), after the tag (codepages.ts B_TAG).
export const B_COUNT = 8;  // u32 instructions in the block
export const B_PAGE2 = 12; // u32 Wasm page number of the page its bytes run into (0 = none)
export const B_COST = 16;  // u64 virtual cycles of the whole block
export const B_LA = 24;    // u64 linear RIP it was decoded at (breakpoints split blocks by linear address)

/** The tag of a block decoded now from the byte at Wasm address `key`. */
@inline export function blockTag(key: usize): u64 { return <u64>key | (<u64>dgen << 32); }

/** Ends a block: control transfers, system instructions, and anything that changes interruptibility. */
@inline function endsBlock(op: i32): bool {
  return op >= D.OP_CPUID || (op >= D.OP_JCC && op <= D.OP_CALL_E) || op == D.OP_LOOP || op == D.OP_POPF ||
    op == D.OP_UD || op == D.OP_UD2 || op == D.OP_TOOLONG;
}

/**
 * Decodes the block at linear `r` (machine byte at Wasm address `key`) into cache slot `slot`,
 * header `h`; false when the first instruction cannot be fetched.
 */
export function buildBlock(h: usize, slot: u32, r: u64, key: usize): bool {
  let la = r;
  let n: u32 = 0;
  let cost: u64 = 0;
  while (n < BLOCK_INSNS) {
    if (n > 0 && nBreakpoints != 0 && isBreakpoint(la)) break; // a breakpoint starts its own block
    const e = h + DENTRY + <usize>n * DENTRY;
    decode(e, la);
    decodeCount++;
    if (stop) {
      if (n == 0) { store<u64>(h, 0, B_TAG); return false; }
      clearStop(); // the fault belongs to a later instruction: it is raised when that one runs
      break;
    }
    const op = <i32>load<u16>(e, D.D_OP);
    const c = load<u32>(COSTS + (<usize>(op & 255) << 2));
    store<u32>(e, c, D.D_COST);
    cost += <u64>c;
    if (op == D.OP_VMFUNC && breakOnVmfunc && n > 0) break; // VMFUNC starts its own block too
    la += <u64>load<u8>(e, D.D_LEN);
    n++;
    if (endsBlock(op)) break;
  }
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
  store<u32>(h, n, B_COUNT);
  store<u64>(h, cost, B_COST);
  return true;
}
