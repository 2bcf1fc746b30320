// Segments and descriptors in IA-32e mode: descriptors from the GDT/LDT and their fields (SDM
// Vol. 3A 3.4.5, 3.5), loading segment registers (MOV/POP Sreg, "64-bit mode exceptions"), the
// descriptor-table registers (LGDT/LIDT/SGDT/SIDT, 2.4) and the system segments (LLDT/LTR/SLDT/STR,
// 7.2.4 with the busy TSS), and the CPL (CS.RPL, 5.5). Access rights are kept in the VMCS format.
import * as D from "./decode";
import * as S from "./state";
import { gpr, setGpr, RSP, cpl } from "./state";
import { stop, raise, raiseGP } from "./fault";
import { ea, readE, writeE } from "./operand";
import { readMem, writeMem, readSys, writeSys, isCanonical, tlbSelect } from "./mmu";
import { push, peek } from "./exec";

/** Reads the 8-byte descriptor for a selector; raises #GP(selector) if beyond the table. */
export function readDescriptor(sel: u32, err: u32): u64 {
  const ti = (sel & 4) != 0;
  const base = ti ? S.segBase(S.LDTR) : S.gdtrBase;
  const limit: u32 = ti ? S.segLimit(S.LDTR) : S.gdtrLimit;
  if ((sel | 7) > limit) { raise(13, err, true); return 0; }
  return readSys(base + <u64>(sel & ~7), 8);
}

/** Descriptor -> VMCS access-rights format (type, S, DPL, P, AVL, L, D/B, G). */
export function arOf(d: u64): u32 { return <u32>((d >> 40) & 0xff) | (<u32>((d >> 52) & 0xf) << 12); }
export function baseOf(d: u64): u64 { return ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24); }
export function limitOf(d: u64): u32 {
  let l = <u32>(d & 0xffff) | (<u32>((d >> 48) & 0xf) << 16);
  if ((d & (<u64>1 << 55)) != 0) l = (l << 12) | 0xfff;
  return l;
}

export function loadSeg(s: i32, sel: u32, d: u64): void {
  S.setSegSel(s, <u16>sel);
  if ((sel & ~3) == 0 && s != S.CS) { S.setSegAr(s, 0x10000 | ((<u32>cpl & 3) << 5)); S.setSegBase(s, 0); S.setSegLimit(s, 0); return; }
  S.setSegAr(s, arOf(d)); S.setSegLimit(s, limitOf(d));
  if (s == S.FS || s == S.GS || s == S.LDTR || s == S.TR) S.setSegBase(s, baseOf(d)); else S.setSegBase(s, 0);
}

/** A new CPL selects the TLB sets of its privilege (user or supervisor). */
export function setCpl(n: i32): void { S.cpl = n; tlbSelect(); }

/** MOV/POP to DS, ES, FS, GS, SS in 64-bit mode (SDM MOV, "64-bit mode exceptions"). */
function loadDataSeg(s: i32, sel: u32): void {
  const rpl = <i32>(sel & 3);
  if ((sel & ~3) == 0) {
    if (s == S.SS && (cpl == 3 || rpl != cpl)) { raiseGP(0); return; }
    loadSeg(s, sel, 0);
    return;
  }
  const d = readDescriptor(sel, sel & ~3);
  if (stop) return;
  const ar = arOf(d);
  const dpl = <i32>((ar >> 5) & 3);
  if ((ar & 0x10) == 0) { raiseGP(sel & ~3); return; }
  if (s == S.SS) {
    if (rpl != cpl || dpl != cpl || (ar & 0x8) != 0 || (ar & 0x2) == 0) { raiseGP(sel & ~3); return; }
    if ((ar & 0x80) == 0) { raise(12, sel & ~3, true); return; }
  } else {
    const code = (ar & 0x8) != 0;
    if (code && (ar & 0x2) == 0) { raiseGP(sel & ~3); return; }
    if (!(code && (ar & 4) != 0) && (rpl > dpl || cpl > dpl)) { raiseGP(sel & ~3); return; }
    if ((ar & 0x80) == 0) { raise(11, sel & ~3, true); return; }
  }
  loadSeg(s, sel, d | (<u64>1 << 40)); // the accessed bit
}

export function execMovSreg(e: usize): void {
  const s = <i32>load<u8>(e, D.D_SUB);
  const v = readE(e, 2); if (stop) return;
  loadDataSeg(s, <u32>v & 0xffff);
  if (stop) return;
  if (s == S.SS) { S.intrShadow |= 2; S.shadowAge = 2; }
}

export function execMovFromSreg(e: usize, size: i32): void { writeE(e, size, <u64>S.segSel(<i32>load<u8>(e, D.D_SUB))); }
export function execPushSreg(e: usize, size: i32): void { push(<u64>S.segSel(<i32>load<u8>(e, D.D_SUB)), size); }
export function execPopSreg(e: usize, size: i32): void {
  const v = peek(0, size); if (stop) return;
  loadDataSeg(<i32>load<u8>(e, D.D_SUB), <u32>v & 0xffff); if (stop) return;
  setGpr(RSP, gpr(RSP) + <u64>size);
}

/** LGDT/LIDT: a 10-byte pseudo-descriptor, the base canonical (SDM LGDT/LIDT). */
export function execLoadDescTable(e: usize, gdt: bool): void {
  if (cpl != 0) { raiseGP(0); return; }
  const a = ea(e);
  const limit = readMem(a, 2); if (stop) return;
  const base = readMem(a + 2, 8); if (stop) return;
  if (!isCanonical(base)) { raiseGP(0); return; }
  if (gdt) { S.gdtrBase = base; S.gdtrLimit = <u32>limit; }
  else { S.idtrBase = base; S.idtrLimit = <u32>limit; }
}

export function execStoreDescTable(e: usize, gdt: bool): void {
  const a = ea(e);
  writeMem(a, 2, gdt ? <u64>S.gdtrLimit : <u64>S.idtrLimit); if (stop) return;
  writeMem(a + 2, 8, gdt ? S.gdtrBase : S.idtrBase);
}

/** STR/SLDT: a memory destination is always 16 bits. */
export function execStoreSystemSeg(e: usize, size: i32, tr: bool): void {
  writeE(e, load<u16>(e, D.D_RM) == D.RM_MEM ? 2 : size, <u64>S.segSel(tr ? S.TR : S.LDTR));
}

export function execLoadSystemSeg(e: usize, tr: bool): void {
  if (cpl != 0) { raiseGP(0); return; }
  const v = readE(e, 2); if (stop) return;
  const sel = <u32>v & 0xffff;
  if ((sel & ~3) == 0) {
    if (tr) { raiseGP(0); return; }
    S.setSegSel(S.LDTR, <u16>sel); S.setSegAr(S.LDTR, 0x10000); return;
  }
  if ((sel & 4) != 0) { raiseGP(sel & ~3); return; }
  const lo = readDescriptor(sel, sel & ~3); if (stop) return;
  const hi = readSysHigh(sel); if (stop) return;
  const ar = arOf(lo);
  const type = ar & 0x1f;
  if (tr ? type != 0x09 : type != 0x02) { raiseGP(sel & ~3); return; }
  if ((ar & 0x80) == 0) { raise(11, sel & ~3, true); return; }
  const base = ((lo >> 16) & 0xffffff) | (((lo >> 56) & 0xff) << 24) | ((hi & 0xffffffff) << 32);
  const seg = tr ? S.TR : S.LDTR;
  S.setSegSel(seg, <u16>sel);
  S.setSegBase(seg, base);
  S.setSegLimit(seg, limitOf(lo));
  if (tr) {
    S.setSegAr(seg, ar | 2); // busy 64-bit TSS (type 11)
    writeDescriptorBusy(sel, lo | (<u64>2 << 40));
  } else S.setSegAr(seg, ar);
}

// A system descriptor in IA-32e mode is 16 bytes: the upper half holds base bits 63:32.
function readSysHigh(sel: u32): u64 { return readSys(S.gdtrBase + <u64>(sel & ~7) + 8, 8); }
function writeDescriptorBusy(sel: u32, d: u64): void { writeSys(S.gdtrBase + <u64>(sel & ~7), 8, d); }
