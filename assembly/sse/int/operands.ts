// Operands and availability of the SSE2 packed-integer and MMX instructions: the entry fields the
// decoder left (assembly/decode/sse-int.ts: D_IMM2 = opcode | mandatory prefix << 8 | REX.W << 16),
// the checks before any operand is read, and the staging of the common "reg, reg/mem" forms.
//
// Availability. SSE2 (66, F3, F2) forms: sse/avail.ts sseUsable (#UD CR0.EM or !CR4.OSFXSR, #NM
// CR0.TS). MMX (no prefix) forms, including the ones SSE/SSE2 added to MMX (PAVGB mm, PADDQ mm,
// PSHUFW, MASKMOVQ...): #UD if CR0.EM, #NM if CR0.TS, then #MF if an unmasked x87 exception is
// pending (FSW.ES) -- SDM Vol. 1 9.5 / 9.6.2, Vol. 3A 2.5 Table 2-2 ("EM=1: #UD for MMX"), and the
// exception tables the MMX instruction pages refer to (Vol. 3B "Exception Conditions for Legacy
// SIMD/MMX Instructions without FP Exception"); no CR4.OSFXSR check. MOVQ2DQ/MOVDQ2Q (SDM Vol. 2B)
// take both: sseUsable, then #MF.
//
// MMX state. Every MMX instruction but EMMS sets TOP = 0 and all tags valid (x87/mmx.ts mmxEnter);
// it runs only after every operand that can fault has been read or probed ("the CPU never
// unwinds"), and MMi is read or written only after it (mmxAddr is defined then).
//
// Alignment. The 66 forms with an m128 operand need it 16-byte aligned, else #GP(0) (SDM Vol. 2A
// 2.4 exception type 4, "Legacy SSE: Memory operand is not aligned on a 16-byte boundary"); the
// m64/m32/m16 forms (MOVQ, MOVD, PINSRW) and MOVDQU do not.
import { D_IMM2, D_REGNUM, D_RMNUM } from "../../decode/entry";
import { MP_NONE } from "../../decode/prefix";
import { FXSTATE, FX_FSW, SSE_TMP } from "../../layout";
import { ea } from "../../operand";
import { readMem, translate, ACC_WRITE } from "../../mmu";
import { mmioEmulating } from "../../mmio";
import { stop, raise, raiseUD } from "../../fault";
import * as S from "../../state";
import { sseUsable } from "../avail";
import { xmmG, rmIsMem, srcE } from "../operand";
import { mmxAddr, mmxEnter } from "../../x87/mmx";

/** The opcode byte (the second byte after 0F). */
@inline export function opcode(e: usize): u32 { return <u32>load<u8>(e, D_IMM2); }
/** The mandatory prefix (prefix.ts MP_*). */
@inline export function mprefix(e: usize): u32 { return <u32>load<u8>(e, D_IMM2 + 1); }
/** REX.W was set. */
@inline export function rexW(e: usize): bool { return load<u8>(e, D_IMM2 + 2) != 0; }
/** ModRM.reg as an MMX register number. */
@inline export function mmReg(e: usize): u32 { return <u32>load<u8>(e, D_REGNUM) & 7; }
/** ModRM.rm as an MMX register number (register forms). */
@inline export function mmRm(e: usize): u32 { return <u32>load<u8>(e, D_RMNUM) & 7; }

/** Where a result is built before it is copied to its register (the source may be the destination). */
export const RES: usize = SSE_TMP + 16;

/** #MF when an unmasked x87 exception is pending (FSW.ES, SDM Vol. 1 8.1.3.1, 8.7); false after raising it. */
export function noPendingX87(): bool {
  if ((load<u16>(FXSTATE + FX_FSW) & 0x80) != 0) { raise(S.MF, 0, false); return false; }
  return true;
}

/** The availability check of an MMX instruction (and EMMS): false after raising #UD, #NM or #MF. */
export function mmxUsable(): bool {
  if ((S.cr0 & S.CR0_EM) != 0) { raiseUD(); return false; }
  if ((S.cr0 & S.CR0_TS) != 0) { raise(S.NM, 0, false); return false; }
  return noPendingX87();
}

/** Checks that `bytes` at `la` can be written (both ends), before state changes; false after a fault. */
export function probeWrite(la: u64, bytes: i32): bool {
  if (mmioEmulating) return true; // an MMIO store is emulated whole by the MMIO path
  const user = S.cpl == 3;
  translate(la, ACC_WRITE, user, true); if (stop) return false;
  // The second page is probed at its first byte: that is the address a #PF reports in CR2.
  if (((la & 0xfff) + <u64>bytes) > 0x1000) { translate((la | 0xfff) + 1, ACC_WRITE, user, true); if (stop) return false; }
  return true;
}

/** Destination and source Wasm addresses of the staged "reg, reg/mem" form. */
export let opD: usize = 0;
export let opS: usize = 0;

/**
 * Stages the common form "op mm, mm/m64" / "op xmm, xmm/m128": checks availability, reads a memory
 * source into SSE_TMP (MMX: `mmxMem` bytes, 8 or 4 for PUNPCKLxx mm, mm/m32; SSE2: an aligned m128),
 * enters MMX state, and sets opD/opS. Returns the register width (8 or 16), or 0 after a fault.
 */
export function stageOperands(e: usize, mmxMem: i32): i32 {
  if (mprefix(e) == MP_NONE) {
    if (!mmxUsable()) return 0;
    const mem = rmIsMem(e);
    if (mem) {
      const v = readMem(ea(e), mmxMem); if (stop) return 0;
      store<u64>(SSE_TMP, v);
    }
    mmxEnter();
    opD = mmxAddr(mmReg(e));
    opS = mem ? SSE_TMP : mmxAddr(mmRm(e));
    return 8;
  }
  if (!sseUsable()) return 0;
  const s = srcE(e, 16, true); if (stop) return 0;
  opD = xmmG(e); opS = s;
  return 16;
}
