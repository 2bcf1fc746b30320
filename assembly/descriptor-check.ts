// The descriptor checks software may make without loading a segment: VERR/VERW (SDM Vol. 2B
// "VERR/VERW -- Verify a Segment for Reading or Writing"), LAR (Vol. 2A "LAR -- Load Access Rights
// Byte") and LSL (Vol. 2A "LSL -- Load Segment Limit"), in 64-bit mode. None of them faults on the
// descriptor: a null selector, one beyond the GDT/LDT limit, a type the instruction does not accept,
// or one not visible at CPL and RPL (DPL < max(CPL, RPL), except conforming code) clears ZF and leaves
// the destination alone; success sets ZF. Only the selector operand (16 bits of a register or memory)
// and the descriptor-table read can fault (#PF, #GP/#SS for a non-canonical memory operand). Neither
// instruction sets the descriptor's accessed bit or checks P. In IA-32e mode the system descriptors
// LAR and LSL accept (LDT, 64-bit TSS available/busy, and for LAR the 64-bit call gate; SDM Tables
// "Segment and Gate Types" of LAR and LSL) are 16 bytes: all 16 must lie within the table and the
// upper half's type field must be 0, else ZF := 0 (as Bochs's fetch_raw_descriptor2_64 checks).
// The LSL table also lists IA-32e type 0 ("upper 8 bytes of a 16-byte descriptor") as valid; like
// Bochs we do not accept it (it names no segment). Linux runs VERW on every return to user space
// (mds_clear_cpu_buffers, arch/x86/include/asm/nospec-branch.h) and its vDSO getcpu reads the CPU
// number with LSL from the per-CPU GDT entry (vdso_read_cpunode, arch/x86/include/asm/segment.h).
import * as D from "./decode";
import * as S from "./state";
import { cpl, F_ZF } from "./state";
import { stop } from "./fault";
import { readE, writeG } from "./operand";
import { readSys } from "./mmu";
import { materialize, rflagsRest } from "./flags";
import { arOf, limitOf } from "./segment";

// Access-rights bits as arOf returns them (the descriptor's byte 5: type, S, DPL, P).
const AR_S: u32 = 0x10;        // code or data segment
const AR_CODE: u32 = 0x08;     // with S: executable
const AR_CONFORMING: u32 = 0x04;
const AR_RW: u32 = 0x02;       // code: readable; data: writable
// System types valid in IA-32e mode.
const SYS_LDT: u32 = 0x2, SYS_TSS64: u32 = 0x9, SYS_TSS64_BUSY: u32 = 0xb, SYS_CALL_GATE64: u32 = 0xc;

/** The descriptor `fetch` read (bytes 0-7). */
let desc: u64 = 0;

/**
 * Reads the 8-byte descriptor a selector names into `desc`. False when the selector is null, names
 * the LDT while LDTR is unusable, or lies beyond its table's limit (the "ZF := 0" cases), and when
 * the read faulted (`stop` is then set).
 */
function fetch(sel: u32): bool {
  if ((sel & ~3) == 0) return false;
  const ldt = (sel & 4) != 0;
  if (ldt && (S.segAr(S.LDTR) & 0x10000) != 0) return false;
  const limit: u32 = ldt ? S.segLimit(S.LDTR) : S.gdtrLimit;
  if ((sel | 7) > limit) return false;
  desc = readSys((ldt ? S.segBase(S.LDTR) : S.gdtrBase) + <u64>(sel & ~7), 8);
  return !stop;
}

/** The upper half of a 16-byte system descriptor: within the table, type field 0. */
function upperHalfValid(sel: u32): bool {
  const ldt = (sel & 4) != 0;
  const limit: u32 = ldt ? S.segLimit(S.LDTR) : S.gdtrLimit;
  if ((sel & ~7) + 15 > limit) return false;
  const hi = readSys((ldt ? S.segBase(S.LDTR) : S.gdtrBase) + <u64>(sel & ~7) + 8, 8);
  if (stop) return false;
  return ((hi >> 40) & 0x1f) == 0;
}

/** DPL >= CPL and DPL >= RPL: the descriptor is visible to this caller. */
@inline function visible(sel: u32, ar: u32): bool {
  const dpl = <i32>((ar >> 5) & 3);
  return cpl <= dpl && <i32>(sel & 3) <= dpl;
}

@inline function isConformingCode(ar: u32): bool { return (ar & (AR_S | AR_CODE | AR_CONFORMING)) == (AR_S | AR_CODE | AR_CONFORMING); }

function setZF(on: bool): void {
  materialize();
  if (on) rflagsRest |= F_ZF; else rflagsRest &= ~F_ZF;
}

/** VERR (D_SUB 4) / VERW (D_SUB 5): ZF := the segment is readable / writable from here. */
export function execVerrw(e: usize): void {
  const sel = <u32>readE(e, 2) & 0xffff; if (stop) return;
  const write = load<u8>(e, D.D_SUB) == 5;
  const found = fetch(sel); if (stop) return;
  if (!found) { setZF(false); return; }
  const ar = arOf(desc);
  let ok = false;
  if ((ar & AR_S) != 0) { // system descriptors are never readable or writable
    if ((ar & AR_CODE) != 0) {
      // Code: never writable; readable if R, and a conforming segment skips the privilege check.
      ok = !write && (ar & AR_RW) != 0 && ((ar & AR_CONFORMING) != 0 || visible(sel, ar));
    } else {
      ok = visible(sel, ar) && (!write || (ar & AR_RW) != 0); // data: always readable
    }
  }
  setZF(ok);
}

/**
 * The checks LAR and LSL share: the selector names a descriptor (fetched into `desc`) of a type the
 * instruction accepts (system types: LDT, 64-bit TSS, and for LAR the 64-bit call gate, with a valid
 * upper half) that is visible at CPL/RPL unless conforming code. False after clearing ZF, or on `stop`.
 */
function larLslAccepts(e: usize, callGateOk: bool): bool {
  const sel = <u32>readE(e, 2) & 0xffff; if (stop) return false;
  const found = fetch(sel); if (stop) return false;
  if (!found) { setZF(false); return false; }
  const ar = arOf(desc);
  if ((ar & AR_S) == 0) {
    const type = ar & 0xf;
    if (type != SYS_LDT && type != SYS_TSS64 && type != SYS_TSS64_BUSY && !(callGateOk && type == SYS_CALL_GATE64)) { setZF(false); return false; }
    const upper = upperHalfValid(sel); if (stop) return false;
    if (!upper || !visible(sel, ar)) { setZF(false); return false; }
  } else if (!isConformingCode(ar) && !visible(sel, ar)) { setZF(false); return false; }
  return true;
}

/** LAR: ZF := 1 and DEST := the access rights (descriptor bits 55:40 masked as the SDM gives). */
export function execLar(e: usize, size: i32): void {
  if (!larLslAccepts(e, true)) return;
  // Bits 7:0 and 31:24 read as 0; 15:8 type, S, DPL, P; with a 32/64-bit operand also 23:16 (limit
  // 19:16, AVL, L, D/B, G; the SDM leaves 19:16 undefined, Intel parts return the limit bits).
  const rights = (desc >> 32) & 0xffff00; // bits 8-23 of the high dword (SDM Vol. 2A LAR)
  writeG(e, size, size == 2 ? rights & 0xff00 : rights);
  setZF(true);
}

/** LSL: ZF := 1 and DEST := the byte-granular 32-bit limit (G applied), 16 bits with a 16-bit operand. */
export function execLsl(e: usize, size: i32): void {
  if (!larLslAccepts(e, false)) return;
  const limit = <u64>limitOf(desc);
  writeG(e, size, size == 2 ? limit & 0xffff : limit);
  setZF(true);
}
