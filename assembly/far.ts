// Far control transfers in 64-bit mode: RETF (CA iw / CB; default operand size 32, REX.W = LRETQ,
// 66 = 16 bits), far JMP and far CALL through memory (FF /5, FF /3: m16:16, m16:32, m16:64 with
// REX.W) -- SDM Vol. 2A "RET", "JMP", "CALL" (their IA-32e-mode operation), Vol. 3A 5.8 "Privilege
// Level Checking When Transferring Program Control Between Code Segments" (5.8.1 direct calls and
// jumps, 5.8.3-5.8.6 call gates and the stack switch, 5.8.3.1 the 16-byte IA-32e call gate).
//
// Checks, in the SDM's order: a null selector is #GP(0); a selector beyond the GDT/LDT limit, a
// descriptor that is neither a code segment nor (JMP/CALL) a 64-bit call gate, or a DPL/RPL/CPL rule
// broken (conforming: DPL <= CPL; non-conforming: RPL <= CPL and DPL = CPL for JMP/CALL; RETF: RPL >= CPL,
// conforming DPL <= RPL, non-conforming DPL = RPL) is #GP(selector); a segment not present is
// #NP(selector); a target with L = 1 and D = 1 is #GP(selector); a non-canonical RIP is #GP(0).
// The CPU never unwinds: every stack read, descriptor read and stack-write probe happens before CS,
// SS, RSP or the CPL change.
//
// Not modelled (both raise #GP(selector), as IRET does in events.ts):
//  - targets with CS.L = 0 (compatibility mode, e.g. Linux's __USER32_CS): this CPU decodes 64-bit
//    code only (SDM Vol. 3A 5.8 / 2.2 "IA-32e mode" compatibility sub-mode);
//  - task gates and TSS descriptors (task switches do not exist in IA-32e mode: #GP(selector) is the
//    architectural result, SDM Vol. 2A JMP "IA-32e mode" -- so this one is exact).
// Call gates (type 0CH, the 16-byte 64-bit gate) are implemented for JMP and CALL, including CALL to
// an inner privilege level with the stack from TSS.RSPn and a null SS (Vol. 3A 5.8.5, 5.8.6).
import * as S from "./state";
import { gpr, setGpr, RSP, cpl, segSel, segAr, setSegSel, setSegAr, setSegBase, setSegLimit, segBase, segLimit } from "./state";
import { stop, raise, raiseGP } from "./fault";
import { D_IMM } from "./decode/entry";
import { ea } from "./operand";
import { readMem, writeMem, readSys, translate, isCanonical, ACC_WRITE, ssAccess } from "./mmu";
import { readDescriptor, arOf, limitOf, loadSeg, setCpl } from "./segment";
import { peek } from "./exec";
import { OP_RETF, OP_JMPF } from "./ops";

const AR_P: u32 = 0x80, AR_L: u32 = 0x2000, AR_DB: u32 = 0x4000, AR_CONF: u32 = 4, AR_UNUSABLE: u32 = 0x10000;

@inline function dplOf(ar: u32): i32 { return <i32>((ar >> 5) & 3); }
@inline function isCode(ar: u32): bool { return (ar & 0x18) == 0x18; }

/** Executes RETF, far JMP or far CALL. */
export function execFar(e: usize, op: i32, size: i32): void {
  if (op == OP_RETF) { retf(size, load<u64>(e, D_IMM)); return; }
  const la = ea(e);
  const off = readMem(la, size); if (stop) return;
  const sel = <u32>readMem(la + <u64>size, 2); if (stop) return;
  ssAccess = false;
  jmpCall(op == OP_JMPF, sel, off, size);
}

/** The CS of a 64-bit code segment: selector with RPL = the new CPL, cached attributes with A set. */
function loadCs(sel: u32, d: u64, newCpl: i32): void {
  setSegSel(S.CS, <u16>((sel & ~3) | <u32>newCpl));
  setSegAr(S.CS, arOf(d) | 1); setSegBase(S.CS, 0); setSegLimit(S.CS, limitOf(d));
}

/**
 * Checks a target code-segment descriptor's mode bits: L = 1 and D = 1 is #GP(sel); L = 0 is
 * compatibility mode, not modelled (#GP(sel), see the file comment). False after raising.
 */
function mode64(ar: u32, sel: u32): bool {
  if ((ar & AR_L) == 0 || (ar & AR_DB) != 0) { raiseGP(sel & ~3); return false; }
  return true;
}

/**
 * Probes the writes of `n` pushes of `size` bytes below `top`, in push order (the first push's slot
 * first, as the host faults on it); false after a fault (#SS for a non-canonical address, #PF).
 */
function probeStack(top: u64, n: i32, size: i32, user: bool): bool {
  ssAccess = true;
  for (let i = 1; i <= n && !stop; i++) {
    const a = top - <u64>(i * size);
    translate(a, ACC_WRITE, user, true);
    if (!stop && ((a ^ (a + <u64>(size - 1))) >> 12) != 0) translate(a + <u64>(size - 1), ACC_WRITE, user, true);
  }
  ssAccess = false;
  return !stop;
}

/** Writes a probed stack slot (after probeStack at the current privilege: cannot fault). */
@inline function stackPut(la: u64, v: u64, size: i32): void {
  ssAccess = true; writeMem(la, size, v); ssAccess = false;
}

// ---- JMP / CALL m16:16/32/64 --------------------------------------------------------------------

function jmpCall(jmp: bool, sel: u32, off: u64, size: i32): void {
  if ((sel & ~3) == 0) { raiseGP(0); return; }
  const d = readDescriptor(sel, sel & ~3); if (stop) return;
  const ar = arOf(d);
  if ((ar & 0x10) == 0) {
    if ((ar & 0xf) == 0xc) { callGate(jmp, sel, d); return; }
    raiseGP(sel & ~3); return; // TSS, task gate, LDT, interrupt/trap gate: no task switches in IA-32e mode
  }
  if (!isCode(ar)) { raiseGP(sel & ~3); return; }
  const dpl = dplOf(ar), rpl = <i32>(sel & 3);
  if ((ar & AR_CONF) != 0) { if (dpl > cpl) { raiseGP(sel & ~3); return; } }
  else if (rpl > cpl || dpl != cpl) { raiseGP(sel & ~3); return; }
  if ((ar & AR_P) == 0) { raise(11, sel & ~3, true); return; }
  if (!mode64(ar, sel)) return;
  if (!isCanonical(off)) { raiseGP(0); return; }
  if (!jmp) {
    // CALL: push CS then the return RIP, each at the operand size (Vol. 2A CALL "far call").
    const sp = gpr(RSP), sz = <u64>size;
    if (!probeStack(sp, 2, size, cpl == 3)) return;
    stackPut(sp - sz, <u64>segSel(S.CS), size);
    stackPut(sp - 2 * sz, S.nrip, size);
    setGpr(RSP, sp - 2 * sz);
  }
  loadCs(sel, d, cpl);
  S.nrip = off;
}

/** A 64-bit call gate (Vol. 3A 5.8.3.1, Figure 5-9; JMP/CALL "IA-32e mode" call-gate operation). */
function callGate(jmp: bool, gsel: u32, lo: u64): void {
  const gar = arOf(lo);
  const gdpl = dplOf(gar), rpl = <i32>(gsel & 3);
  if (gdpl < cpl || gdpl < rpl) { raiseGP(gsel & ~3); return; }
  if ((gar & AR_P) == 0) { raise(11, gsel & ~3, true); return; }
  // The upper 8 bytes: the gate must fit the table, and its "type" bits 12:8 of dword 3 must be 0.
  const ti = (gsel & 4) != 0;
  const tbase = ti ? segBase(S.LDTR) : S.gdtrBase;
  const tlimit: u32 = ti ? segLimit(S.LDTR) : S.gdtrLimit;
  if ((gsel | 7) + 8 > tlimit) { raiseGP(gsel & ~3); return; }
  const hi = readSys(tbase + <u64>(gsel & ~7) + 8, 8); if (stop) return;
  if (((hi >> 40) & 0x1f) != 0) { raiseGP(gsel & ~3); return; }
  const tsel = <u32>((lo >> 16) & 0xffff);
  const target = (lo & 0xffff) | (((lo >> 48) & 0xffff) << 16) | ((hi & 0xffffffff) << 32);
  if ((tsel & ~3) == 0) { raiseGP(0); return; }
  const d = readDescriptor(tsel, tsel & ~3); if (stop) return;
  const ar = arOf(d);
  if ((ar & 0x10) == 0 || !isCode(ar)) { raiseGP(tsel & ~3); return; }
  const dpl = dplOf(ar);
  if (dpl > cpl) { raiseGP(tsel & ~3); return; }
  const conforming = (ar & AR_CONF) != 0;
  if (jmp && !conforming && dpl != cpl) { raiseGP(tsel & ~3); return; }
  if ((ar & AR_P) == 0) { raise(11, tsel & ~3, true); return; }
  if (!mode64(ar, tsel)) return; // the gate's target must be a 64-bit code segment
  if (!isCanonical(target)) { raiseGP(0); return; }
  if (jmp) { loadCs(tsel, d, cpl); S.nrip = target; return; }
  const oldCs = <u64>segSel(S.CS), oldSs = <u64>segSel(S.SS), oldRsp = gpr(RSP);
  if (!conforming && dpl < cpl) {
    // More privilege: RSP from TSS.RSP[dpl], SS a null selector with RPL = new CPL; push the old
    // SS:RSP, then CS:RIP, 8 bytes each (parameters are not copied in IA-32e mode, 5.8.5).
    const sp = readSys(segBase(S.TR) + 4 + (<u64>dpl << 3), 8); if (stop) return;
    if (!isCanonical(sp)) { raise(12, 0, true); return; }
    if (!probeStack(sp, 4, 8, dpl == 3)) return;
    setCpl(dpl);
    setSegSel(S.SS, <u16>dpl); setSegAr(S.SS, AR_UNUSABLE | (<u32>dpl << 5)); setSegBase(S.SS, 0); setSegLimit(S.SS, 0);
    stackPut(sp - 8, oldSs, 8); stackPut(sp - 16, oldRsp, 8);
    stackPut(sp - 24, oldCs, 8); stackPut(sp - 32, S.nrip, 8);
    setGpr(RSP, sp - 32);
    loadCs(tsel, d, dpl);
  } else {
    if (!probeStack(oldRsp, 2, 8, cpl == 3)) return;
    stackPut(oldRsp - 8, oldCs, 8); stackPut(oldRsp - 16, S.nrip, 8);
    setGpr(RSP, oldRsp - 16);
    loadCs(tsel, d, cpl);
  }
  S.nrip = target;
}

// ---- RETF ---------------------------------------------------------------------------------------

function retf(size: i32, imm: u64): void {
  const sz = <u64>size;
  const newRip = peek(0, size); if (stop) return;
  const csSel = <u32>peek(sz, size) & 0xffff; if (stop) return;
  if ((csSel & ~3) == 0) { raiseGP(0); return; }
  const d = readDescriptor(csSel, csSel & ~3); if (stop) return;
  const ar = arOf(d);
  if ((ar & 0x10) == 0 || !isCode(ar)) { raiseGP(csSel & ~3); return; }
  const rpl = <i32>(csSel & 3), dpl = dplOf(ar);
  if (rpl < cpl) { raiseGP(csSel & ~3); return; }
  if ((ar & AR_CONF) != 0 ? dpl > rpl : dpl != rpl) { raiseGP(csSel & ~3); return; }
  if ((ar & AR_P) == 0) { raise(11, csSel & ~3, true); return; }
  if (!mode64(ar, csSel)) return;
  if (!isCanonical(newRip)) { raiseGP(0); return; }
  if (rpl == cpl) {
    setGpr(RSP, gpr(RSP) + 2 * sz + imm);
    loadCs(csSel, d, cpl);
    S.nrip = newRip;
    return;
  }
  // Return to an outer privilege level: the caller's RSP and SS follow CS:RIP (and the imm16 bytes
  // of parameters on this stack); imm16 is released on the caller's stack too (Vol. 2A RET).
  const newRsp = peek(2 * sz + imm, size); if (stop) return;
  const ssSel = <u32>peek(3 * sz + imm, size) & 0xffff; if (stop) return;
  let sd: u64 = 0;
  if ((ssSel & ~3) == 0) {
    if (rpl == 3) { raiseGP(0); return; } // a null SS only for a 64-bit CS at CPL < 3
  } else {
    if (<i32>(ssSel & 3) != rpl) { raiseGP(ssSel & ~3); return; }
    sd = readDescriptor(ssSel, ssSel & ~3); if (stop) return;
    const sar = arOf(sd);
    if ((sar & 0x1a) != 0x12 || dplOf(sar) != rpl) { raiseGP(ssSel & ~3); return; }
    if ((sar & AR_P) == 0) { raise(12, ssSel & ~3, true); return; }
    sd |= <u64>1 << 40;
  }
  loadCs(csSel, d, rpl);
  setCpl(rpl);
  loadSeg(S.SS, ssSel, sd);
  setGpr(RSP, (size == 8 ? newRsp : newRsp & 0xffffffff) + imm);
  S.nrip = newRip;
  // Data segments the new CPL may not use become null (Vol. 2A RET: "FOR each of segment register
  // (ES, FS, GS, and DS) ... IF data or non-conforming code AND CPL > DPL THEN selector <- 0"); the
  // FS/GS bases stay (they are MSR-loaded state in IA-32e mode).
  nullIfPrivileged(S.ES, rpl); nullIfPrivileged(S.DS, rpl); nullIfPrivileged(S.FS, rpl); nullIfPrivileged(S.GS, rpl);
}

function nullIfPrivileged(s: i32, newCpl: i32): void {
  const ar = segAr(s);
  if ((ar & AR_UNUSABLE) != 0) return;
  const dataOrNc = (ar & 0x18) == 0x10 || (ar & 0x1c) == 0x18;
  if (dataOrNc && dplOf(ar) < newCpl) { setSegSel(s, 0); setSegAr(s, AR_UNUSABLE | (<u32>newCpl << 5)); }
}
