// SSE2/MMX data movement and the integer-SIMD/GPR transfers (SDM Vol. 2B MOVD/MOVQ, MOVDQA,
// MOVDQU, MOVQ2DQ, MOVDQ2Q, MOVNTDQ, MOVNTQ, MOVNTI, MASKMOVDQU, MASKMOVQ, PINSRW, PEXTRW,
// PMOVMSKB): the OP_SSE_MOVI group. The non-temporal hints (MOVNT*, MASKMOV*) are plain stores
// here (no caches are modelled). MOVNTI is a general-register store with none of the SSE
// availability checks (SDM Vol. 3A 13.1.4: CR0.EM/CR4.OSFXSR "do not affect ... MOVNTI").
// A store of an MMX register probes its destination before the MMX state changes (operands.ts).
import { D_IMM, D_REG, D_RM, D_SEG, D_ASZ, RM_MEM } from "../../decode/entry";
import { MP_NONE, MP_66, MP_F3 } from "../../decode/prefix";
import { ea, readReg, writeReg } from "../../operand";
import { readMem, writeMem, ssAccess } from "../../mmu";
import { stop, raiseUD } from "../../fault";
import * as S from "../../state";
import { sseUsable } from "../avail";
import { xmmG, xmmE, rmIsMem, srcE, writeM128 } from "../operand";
import { mmxAddr, mmxEnter, mmxWrote } from "../../x87/mmx";
import { opcode, mprefix, rexW, mmReg, mmRm, mmxUsable, noPendingX87, probeWrite } from "./operands";

@inline function setXmm(x: usize, lo: u64, hi: u64): void { store<u64>(x, lo); store<u64>(x, hi, 8); }

/** 0F 6E: MOVD/MOVQ mm|xmm, r/m32|r/m64 (zero-extended to the register's width). */
function movdIn(e: usize, mp: u32): void {
  const n = rexW(e) ? 8 : 4;
  if (mp == MP_NONE) {
    if (!mmxUsable()) return;
    const rm = load<u16>(e, D_RM);
    const v = rm != RM_MEM ? readReg(rm, n) : readMem(ea(e), n); if (stop) return;
    mmxEnter();
    const r = mmReg(e);
    store<u64>(mmxAddr(r), v); mmxWrote(r);
    return;
  }
  if (!sseUsable()) return;
  const rm = load<u16>(e, D_RM);
  const v = rm != RM_MEM ? readReg(rm, n) : readMem(ea(e), n); if (stop) return;
  setXmm(xmmG(e), v, 0);
}

/** 0F 7E: MOVD/MOVQ r/m32|r/m64, mm|xmm. */
function movdOut(e: usize, mp: u32): void {
  const n = rexW(e) ? 8 : 4;
  const rm = load<u16>(e, D_RM);
  if (mp == MP_NONE) {
    if (!mmxUsable()) return;
    let la: u64 = 0;
    if (rm == RM_MEM) { la = ea(e); if (!probeWrite(la, n)) return; }
    mmxEnter();
    const v = load<u64>(mmxAddr(mmReg(e)));
    if (rm != RM_MEM) writeReg(rm, n, v); else writeMem(la, n, v);
    return;
  }
  if (!sseUsable()) return;
  const v = load<u64>(xmmG(e));
  if (rm != RM_MEM) writeReg(rm, n, v); else writeMem(ea(e), n, v);
}

/** F3 0F 7E: MOVQ xmm, xmm/m64 (upper quadword cleared). */
function movqXmmIn(e: usize): void {
  if (!sseUsable()) return;
  const s = srcE(e, 8, false); if (stop) return;
  setXmm(xmmG(e), load<u64>(s), 0);
}

/** 66 0F D6: MOVQ xmm/m64, xmm (a register destination gets its upper quadword cleared). */
function movqXmmOut(e: usize): void {
  if (!sseUsable()) return;
  const v = load<u64>(xmmG(e));
  if (rmIsMem(e)) writeMem(ea(e), 8, v);
  else setXmm(xmmE(e), v, 0);
}

/** 0F 6F: MOVQ mm, mm/m64. */
function movqMmIn(e: usize): void {
  if (!mmxUsable()) return;
  const mem = rmIsMem(e);
  let v: u64 = 0;
  if (mem) { v = readMem(ea(e), 8); if (stop) return; }
  mmxEnter();
  if (!mem) v = load<u64>(mmxAddr(mmRm(e)));
  const r = mmReg(e);
  store<u64>(mmxAddr(r), v); mmxWrote(r);
}

/** 0F 7F / 0F E7: MOVQ mm/m64, mm and MOVNTQ m64, mm. */
function movqMmOut(e: usize): void {
  if (!mmxUsable()) return;
  if (rmIsMem(e)) {
    const la = ea(e);
    if (!probeWrite(la, 8)) return;
    mmxEnter();
    writeMem(la, 8, load<u64>(mmxAddr(mmReg(e))));
    return;
  }
  mmxEnter();
  const r = mmRm(e);
  store<u64>(mmxAddr(r), load<u64>(mmxAddr(mmReg(e)))); mmxWrote(r);
}

/** 66/F3 0F 6F: MOVDQA / MOVDQU xmm, xmm/m128. */
function movdqIn(e: usize, align: bool): void {
  if (!sseUsable()) return;
  const s = srcE(e, 16, align); if (stop) return;
  setXmm(xmmG(e), load<u64>(s), load<u64>(s, 8));
}

/** 66/F3 0F 7F, 66 0F E7: MOVDQA / MOVDQU / MOVNTDQ xmm/m128, xmm. */
function movdqOut(e: usize, align: bool): void {
  if (!sseUsable()) return;
  const g = xmmG(e);
  if (rmIsMem(e)) { writeM128(ea(e), g, align); return; }
  setXmm(xmmE(e), load<u64>(g), load<u64>(g, 8));
}

/** F3 0F D6 MOVQ2DQ xmm, mm; F2 0F D6 MOVDQ2Q mm, xmm (SDM Vol. 2B: #UD/#NM as SSE2, then #MF). */
function movq2dq(e: usize, toXmm: bool): void {
  if (!sseUsable() || !noPendingX87()) return;
  mmxEnter();
  if (toXmm) { setXmm(xmmG(e), load<u64>(mmxAddr(mmRm(e))), 0); return; }
  const r = mmReg(e);
  store<u64>(mmxAddr(r), load<u64>(xmmE(e))); mmxWrote(r);
}

/**
 * 0F F7 MASKMOVQ mm1, mm2 / 66 0F F7 MASKMOVDQU xmm1, xmm2: the bytes of the ModRM.reg register whose
 * mask byte (ModRM.rm) has its top bit set are stored at DS:rDI (address size from 67; a segment
 * override applies). The whole 8 or 16 bytes are probed for writing before any byte is written: the SDM
 * leaves faults on unselected bytes (an all-zero mask included) implementation-specific, and the host
 * CPU faults on them (test/sse-int.test.ts); then only the selected bytes are written.
 */
function maskmov(e: usize, mp: u32): void {
  const mmx = mp == MP_NONE;
  if (mmx) { if (!mmxUsable()) return; } else if (!sseUsable()) return;
  let base = S.gpr(S.RDI);
  if (load<u8>(e, D_ASZ) == 4) base &= 0xffffffff;
  const sg = load<u8>(e, D_SEG);
  if (sg != 0) base += S.segBase(sg);
  const n: i32 = mmx ? 8 : 16;
  // The MMX transition happens even when the store then faults (the host CPU sets every tag valid
  // on a MASKMOVQ #PF; test/sse-int.test.ts), unlike MOVQ m64, mm.
  if (mmx) mmxEnter();
  ssAccess = false;
  if (!probeWrite(base, n)) return;
  const src = mmx ? mmxAddr(mmReg(e)) : xmmG(e);
  const msk = mmx ? mmxAddr(mmRm(e)) : xmmE(e);
  for (let i = 0; i < n; i++) {
    const o = <usize>i;
    if ((load<u8>(msk + o) & 0x80) != 0) { writeMem(base + <u64>i, 1, <u64>load<u8>(src + o)); if (stop) return; }
  }
}

/** 0F C3: MOVNTI m32|m64, r32|r64 (memory destination only: the decoder rejects a register). */
function movnti(e: usize): void {
  const n = rexW(e) ? 8 : 4;
  writeMem(ea(e), n, readReg(load<u16>(e, D_REG), n));
}

/** 0F C4: PINSRW mm|xmm, r32/m16, imm8 (word index imm8 mod 4 or 8). */
function pinsrw(e: usize, mp: u32): void {
  const mmx = mp == MP_NONE;
  if (mmx) { if (!mmxUsable()) return; } else if (!sseUsable()) return;
  const rm = load<u16>(e, D_RM);
  const v = rm != RM_MEM ? readReg(rm, 2) : readMem(ea(e), 2); if (stop) return;
  const imm = <usize>load<u8>(e, D_IMM);
  if (mmx) {
    mmxEnter();
    const r = mmReg(e);
    store<u16>(mmxAddr(r) + ((imm & 3) << 1), <u16>v); mmxWrote(r);
    return;
  }
  store<u16>(xmmG(e) + ((imm & 7) << 1), <u16>v);
}

/** 0F C5: PEXTRW r32|r64, mm|xmm, imm8: the word, zero-extended into the general register. */
function pextrw(e: usize, mp: u32): void {
  const mmx = mp == MP_NONE;
  if (mmx) { if (!mmxUsable()) return; mmxEnter(); } else if (!sseUsable()) return;
  const imm = <usize>load<u8>(e, D_IMM);
  const v = mmx ? load<u16>(mmxAddr(mmRm(e)) + ((imm & 3) << 1)) : load<u16>(xmmE(e) + ((imm & 7) << 1));
  writeReg(load<u16>(e, D_REG), 8, <u64>v);
}

/** 0F D7: PMOVMSKB r32|r64, mm|xmm: the bytes' top bits, zero-extended into the general register. */
function pmovmskb(e: usize, mp: u32): void {
  const mmx = mp == MP_NONE;
  if (mmx) { if (!mmxUsable()) return; mmxEnter(); } else if (!sseUsable()) return;
  const s = mmx ? mmxAddr(mmRm(e)) : xmmE(e);
  const n = mmx ? 1 : 2;
  let m: u64 = 0;
  for (let q = 0; q < n; q++) {
    // Gather bit 7 of each byte of the quadword into 8 bits (multiply trick on the isolated bits).
    const t = (load<u64>(s + (<usize>q << 3)) & 0x8080808080808080) >> 7;
    m |= ((t * 0x0102040810204080) >> 56) << (<u64>q << 3);
  }
  writeReg(load<u16>(e, D_REG), 8, m);
}

/** Executes an OP_SSE_MOVI instruction. */
export function execMovI(e: usize): void {
  const b = opcode(e), mp = mprefix(e);
  switch (b) {
    case 0x6e: movdIn(e, mp); return;
    case 0x7e: if (mp == MP_F3) movqXmmIn(e); else movdOut(e, mp); return;
    case 0x6f: if (mp == MP_NONE) movqMmIn(e); else movdqIn(e, mp == MP_66); return;
    case 0x7f: if (mp == MP_NONE) movqMmOut(e); else movdqOut(e, mp == MP_66); return;
    case 0xe7: if (mp == MP_NONE) movqMmOut(e); else movdqOut(e, true); return;
    case 0xd6: if (mp == MP_66) movqXmmOut(e); else movq2dq(e, mp == MP_F3); return;
    case 0xf7: maskmov(e, mp); return;
    case 0xc3: movnti(e); return;
    case 0xc4: pinsrw(e, mp); return;
    case 0xc5: pextrw(e, mp); return;
    case 0xd7: pmovmskb(e, mp); return;
  }
  raiseUD();
}
