// Operands of SSE/SSE2 and MMX instructions (SDM Vol. 2A 2.1.5; Vol. 1 10.2, 9.2): XMM registers in
// FXSTATE, 128-bit and narrower memory operands staged through SSE_TMP, and the alignment rule of
// the 16-byte-aligned forms (MOVAPS, MOVDQA, the packed arithmetic with a memory source...): a
// misaligned m128 is #GP(0) (SDM Vol. 1 11.6.7 "Interaction of SSE/SSE2 Instructions with ...",
// Vol. 2 2.4 exception type 1 and 4), never #AC. A 16-byte store checks both pages before it writes
// either half, so a fault leaves memory untouched (as every x86 store does).
import { FXSTATE, FX_XMM, SSE_TMP } from "../layout";
import { D_RM, D_RMNUM, D_REGNUM, RM_MEM } from "../decode/entry";
import { ea } from "../operand";
import { readMem, writeMem, translate, ACC_WRITE } from "../mmu";
import { mmioEmulating } from "../mmio";
import { stop, raise } from "../fault";
import { cpl } from "../state";

export { SSE_TMP };

/** Wasm address of XMMn. */
@inline export function xmmAddr(n: u32): usize { return FXSTATE + FX_XMM + (<usize>n << 4); }
/** The ModRM.reg XMM register. */
@inline export function xmmG(e: usize): usize { return xmmAddr(<u32>load<u8>(e, D_REGNUM)); }
/** The ModRM.rm XMM register (register forms only). */
@inline export function xmmE(e: usize): usize { return xmmAddr(<u32>load<u8>(e, D_RMNUM)); }
/** The instruction's ModRM.rm names memory. */
@inline export function rmIsMem(e: usize): bool { return load<u16>(e, D_RM) == RM_MEM; }

/** #GP(0) when `la` is not 16-byte aligned (the aligned m128 forms); returns false after raising it. */
@inline export function aligned16(la: u64): bool {
  if ((la & 15) != 0) { raise(13, 0, true); return false; }
  return true;
}

/** Reads 16 bytes at `la` into SSE_TMP (check `stop`). `align` applies the #GP(0) rule. */
export function readM128(la: u64, align: bool): void {
  if (align && !aligned16(la)) return;
  const lo = readMem(la, 8); if (stop) return;
  const hi = readMem(la + 8, 8); if (stop) return;
  store<u64>(SSE_TMP, lo); store<u64>(SSE_TMP, hi, 8);
}

/** Writes 16 bytes from Wasm address `src` to `la`: both pages are checked before either half is written. */
export function writeM128(la: u64, src: usize, align: bool): void {
  if (align && !aligned16(la)) return;
  if (!mmioEmulating && (la & 0xfff) > 0xff0) {
    const user = cpl == 3;
    translate(la, ACC_WRITE, user, true); if (stop) return;
    translate((la | 0xfff) + 1, ACC_WRITE, user, true); if (stop) return; // CR2 = the second page's first byte
  }
  const lo = load<u64>(src), hi = load<u64>(src, 8);
  writeMem(la, 8, lo); if (stop) return;
  writeMem(la + 8, 8, hi);
}

/**
 * The source operand of width `bytes` (4, 8 or 16) of an SSE instruction: the Wasm address of the
 * ModRM.rm XMM register, or of SSE_TMP holding the memory operand (zero-extended to 16 bytes).
 * Returns 0 after a fault.
 */
export function srcE(e: usize, bytes: i32, align: bool): usize {
  if (!rmIsMem(e)) return xmmE(e);
  const la = ea(e);
  if (bytes == 16) { readM128(la, align); return stop ? 0 : SSE_TMP; }
  const v = readMem(la, bytes); if (stop) return 0;
  store<u64>(SSE_TMP, v); store<u64>(SSE_TMP, 0, 8);
  return SSE_TMP;
}
