// The interpreter: one decoded instruction at a time. Handlers read every
// operand (and probe every write) before they change architectural state, so a
// fault leaves the state of the instruction's start (SDM Vol. 3A 6.5, faults).
import { REGS } from "./layout";
import * as D from "./decode";
import { gpr, setGpr, nrip, rip, RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, F_CF, F_PF, F_AF, F_ZF, F_SF,
  F_OF, F_DF, F_IF, F_TF, F_IOPL, F_RF, F_VM, F_VIF, F_VIP, F_FIXED1, STATUS_FLAGS, cpl } from "./state";
import { stop, raise, raiseGP, raiseUD } from "./fault";
import { ea, readReg, writeReg, readE, writeE, readG, writeG, isRegRM } from "./operand";
import { readMem, readMemW, writeMem, ssAccess } from "./mmu";
import { alu, shift, shiftDouble, mul64, imul64, mulHi, udiv128, idiv128, divQ, divR } from "./alu";
import { setLazy, getCF, getZF, testCC, testCCFast, getRflags, setRflags, materialize, rflagsRest, maskOf, signOf,
  setStatus, parity, lfCarry, LF_INC, LF_DEC, LF_NEG, LF_SUB, LF_LOGIC, LF_ADD } from "./flags";
import { execSystem } from "./system";
import { execSse } from "./sse/index";
import { execX87 } from "./x87/index";
import { execFar } from "./far";
import { opUnit, UNIT_SSE, UNIT_X87 } from "./ops";

/** Set by instructions that did only part of their work (long REP strings). */
export let partial: bool = false;
const REP_CHUNK: u64 = 4096;

@inline function sext(v: u64, size: i32): u64 {
  const sh = <u64>(64 - (size << 3));
  return <u64>(<i64>(v << sh) >> sh);
}

// ---- stack ----------------------------------------------------------------
export function push(v: u64, size: i32): void {
  const sp = gpr(RSP) - <u64>size;
  ssAccess = true;
  writeMem(sp, size, v);
  ssAccess = false;
  if (stop) return;
  setGpr(RSP, sp);
}
/** Reads the top of stack without popping (the caller commits RSP when done). */
export function peek(offset: u64, size: i32): u64 {
  ssAccess = true;
  const v = readMem(gpr(RSP) + offset, size);
  ssAccess = false;
  return v;
}

// ---- the dispatcher ---------------------------------------------------------
@inline export function execute(e: usize): void {
  const op = <i32>load<u16>(e, D.D_OP);
  const size = <i32>load<u8>(e, D.D_OSZ);
  switch (op) {
    case D.OP_MOV_EG: writeE(e, size, readG(e, size)); return;
    case D.OP_MOV_GE: { const v = readE(e, size); if (stop) return; writeG(e, size, v); return; }
    case D.OP_MOV_EI: writeE(e, size, load<u64>(e, D.D_IMM)); return;
    case D.OP_LEA: writeG(e, size, leaAddr(e)); return;
    case D.OP_ALU_EG: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      const b = readG(e, size);
      if (isRegRM(e)) {
        const off = <usize>load<u16>(e, D.D_RM);
        const r = alu(kind, readReg(off, size), b, size);
        if (kind != 7) writeReg(off, size, r);
      } else {
        const a = ea(e);
        const v = kind == 7 ? readMem(a, size) : readMemW(a, size);
        if (stop) return;
        const r = alu(kind, v, b, size);
        if (kind != 7) writeMem(a, size, r);
      }
      return;
    }
    case D.OP_ALU_GE: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      const b = readE(e, size);
      if (stop) return;
      const r = alu(kind, readG(e, size), b, size);
      if (kind != 7) writeG(e, size, r);
      return;
    }
    case D.OP_ALU_EI: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      const b = load<u64>(e, D.D_IMM) & maskOf(<u32>size << 3);
      if (isRegRM(e)) {
        const off = <usize>load<u16>(e, D.D_RM);
        const r = alu(kind, readReg(off, size), b, size);
        if (kind != 7) writeReg(off, size, r);
      } else {
        const a = ea(e);
        const v = kind == 7 ? readMem(a, size) : readMemW(a, size);
        if (stop) return;
        const r = alu(kind, v, b, size);
        if (kind != 7) writeMem(a, size, r);
      }
      return;
    }
    case D.OP_TEST_EG: { const a = readE(e, size); if (stop) return; alu(4, a, readG(e, size), size); return; }
    case D.OP_TEST_EI: { const a = readE(e, size); if (stop) return; alu(4, a, load<u64>(e, D.D_IMM) & maskOf(<u32>size << 3), size); return; }
    case D.OP_JCC: if (testCCFast(<u32>load<u8>(e, D.D_SUB))) nrip += load<u64>(e, D.D_IMM); return;
    case D.OP_JMP: nrip += load<u64>(e, D.D_IMM); return;
    case D.OP_CALL: { const t = nrip + load<u64>(e, D.D_IMM); push(nrip, 8); if (stop) return; nrip = t; return; }
    case D.OP_RET: {
      const t = peek(0, size);
      if (stop) return;
      if (!isCanonicalAddr(t)) { raiseGP(0); return; }
      setGpr(RSP, gpr(RSP) + <u64>size + load<u64>(e, D.D_IMM));
      nrip = size == 2 ? t & 0xffff : t;
      return;
    }
    case D.OP_JMP_E: {
      const t = readE(e, 8); if (stop) return;
      if (!isCanonicalAddr(t)) { raiseGP(0); return; }
      nrip = t; return;
    }
    case D.OP_CALL_E: {
      const t = readE(e, 8); if (stop) return;
      if (!isCanonicalAddr(t)) { raiseGP(0); return; }
      push(nrip, 8); if (stop) return;
      nrip = t; return;
    }
    case D.OP_PUSH_R: push(readReg(load<u16>(e, D.D_RM), size), size); return;
    case D.OP_POP_R: {
      const v = peek(0, size); if (stop) return;
      setGpr(RSP, gpr(RSP) + <u64>size);
      writeReg(load<u16>(e, D.D_RM), size, v);
      return;
    }
    case D.OP_PUSH_I: push(load<u64>(e, D.D_IMM), size); return;
    case D.OP_PUSH_E: { const v = readE(e, size); if (stop) return; push(v, size); return; }
    case D.OP_POP_E: {
      // The effective address is computed with RSP already incremented (SDM POP).
      const v = peek(0, size); if (stop) return;
      const old = gpr(RSP);
      setGpr(RSP, old + <u64>size);
      writeE(e, size, v);
      if (stop) setGpr(RSP, old);
      return;
    }
    case D.OP_MOVZX: {
      const v = readE(e, <i32>load<u8>(e, D.D_SUB)); if (stop) return;
      writeG(e, size, v); return;
    }
    case D.OP_MOVSX: {
      const ss = <i32>load<u8>(e, D.D_SUB);
      const v = readE(e, ss); if (stop) return;
      writeG(e, size, sext(v, ss)); return;
    }
    case D.OP_XCHG: {
      if (isRegRM(e)) {
        const a = readE(e, size), b = readG(e, size);
        writeE(e, size, b); writeG(e, size, a);
      } else {
        const addr = ea(e);
        const a = readMemW(addr, size); if (stop) return;
        writeMem(addr, size, readG(e, size));
        writeG(e, size, a);
      }
      return;
    }
    case D.OP_BSWAP: {
      const off = <usize>load<u16>(e, D.D_RM);
      if (size == 8) writeReg(off, 8, bswap<u64>(readReg(off, 8)));
      else if (size == 4) writeReg(off, 4, <u64>bswap<u32>(<u32>readReg(off, 4)));
      else writeReg(off, 2, 0); // BSWAP r16 is undefined; Intel parts clear it
      return;
    }
    case D.OP_INC: case D.OP_DEC: {
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const a = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const bits = <u32>size << 3;
      const r = (op == D.OP_INC ? a + 1 : a - 1) & maskOf(bits);
      lfCarry = getCF() ? 1 : 0;
      setLazy(op == D.OP_INC ? LF_INC : LF_DEC, a, 1, r, maskOf(bits));
      if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
      return;
    }
    case D.OP_NEG: case D.OP_NOT: {
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const a = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const bits = <u32>size << 3;
      let r: u64;
      if (op == D.OP_NEG) { r = (0 - a) & maskOf(bits); setLazy(LF_NEG, a, 0, r, maskOf(bits)); }
      else r = ~a & maskOf(bits);
      if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
      return;
    }
    case D.OP_SHIFT: {
      const count = load<u8>(e, D.D_IMM2) != 0 ? gpr(RCX) & 0xff : load<u64>(e, D.D_IMM);
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const a = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const r = shift(<u32>load<u8>(e, D.D_SUB), a, count, size);
      if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
      return;
    }
    case D.OP_SHLD: case D.OP_SHRD: {
      const count = load<u8>(e, D.D_IMM2) != 0 ? gpr(RCX) & 0xff : load<u64>(e, D.D_IMM);
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const a = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const r = shiftDouble(op == D.OP_SHLD, a, readG(e, size), count, size);
      if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
      return;
    }
    case D.OP_MULDIV: execMulDiv(e, size); return;
    case D.OP_IMUL_GE: case D.OP_IMUL_GEI: {
      const a = readE(e, size); if (stop) return;
      const b = op == D.OP_IMUL_GE ? readG(e, size) : load<u64>(e, D.D_IMM);
      const r = imulTrunc(a, b, size);
      writeG(e, size, r);
      return;
    }
    case D.OP_CONV_A: {
      if (size == 8) setGpr(RAX, sext(gpr(RAX), 4));
      else if (size == 4) writeReg(0, 4, sext(gpr(RAX), 2) & 0xffffffff);
      else writeReg(0, 2, sext(gpr(RAX), 1));
      return;
    }
    case D.OP_CONV_D: {
      const bits = <u64>(size << 3);
      const neg = (gpr(RAX) >> (bits - 1)) & 1;
      writeReg(RDX << 3, size, neg != 0 ? 0xffffffffffffffff : 0);
      return;
    }
    case D.OP_BT_EG: case D.OP_BT_EI: execBt(e, size, op == D.OP_BT_EI); return;
    case D.OP_BSF: case D.OP_BSR: {
      const v = readE(e, size); if (stop) return;
      materialize();
      if (v == 0) { rflagsRest |= F_ZF; return; }
      rflagsRest &= ~F_ZF;
      writeG(e, size, op == D.OP_BSF ? ctz<u64>(v) : 63 - clz<u64>(v));
      return;
    }
    case D.OP_POPCNT: {
      const v = readE(e, size); if (stop) return;
      setStatus(v == 0 ? F_ZF : 0);
      writeG(e, size, popcnt<u64>(v));
      return;
    }
    case D.OP_LZCNT: case D.OP_TZCNT: {
      const v = readE(e, size); if (stop) return;
      const bits = <u64>(size << 3);
      let r: u64;
      if (v == 0) r = bits;
      else if (op == D.OP_TZCNT) r = ctz<u64>(v);
      else r = clz<u64>(v) - (64 - bits);
      materialize();
      const keep = rflagsRest & (F_OF | F_SF | F_AF | F_PF);
      setStatus(keep | (v == 0 ? F_CF : 0) | (r == 0 ? F_ZF : 0));
      writeG(e, size, r);
      return;
    }
    case D.OP_SETCC: writeE(e, 1, testCCFast(<u32>load<u8>(e, D.D_SUB)) ? 1 : 0); return;
    case D.OP_CMOVCC: {
      const v = readE(e, size); if (stop) return;
      // A 32-bit CMOV writes (zero-extends) the destination even when false.
      if (testCCFast(<u32>load<u8>(e, D.D_SUB))) writeG(e, size, v);
      else if (size == 4) writeG(e, 4, readG(e, 4));
      return;
    }
    case D.OP_PUSHF: push(getRflags() & ~(F_RF | F_VM), size); return;
    case D.OP_POPF: execPopf(size); return;
    case D.OP_LAHF: {
      const f = getRflags();
      store<u8>(REGS + 1, <u8>((f & (F_SF | F_ZF | F_AF | F_PF | F_CF)) | 2));
      return;
    }
    case D.OP_SAHF: {
      const ah = <u64>load<u8>(REGS + 1);
      materialize();
      rflagsRest = (rflagsRest & ~(F_SF | F_ZF | F_AF | F_PF | F_CF)) | (ah & (F_SF | F_ZF | F_AF | F_PF | F_CF));
      return;
    }
    case D.OP_CLC: materialize(); rflagsRest &= ~F_CF; return;
    case D.OP_STC: materialize(); rflagsRest |= F_CF; return;
    case D.OP_CMC: materialize(); rflagsRest ^= F_CF; return;
    case D.OP_CLD: rflagsRest &= ~F_DF; return;
    case D.OP_STD: rflagsRest |= F_DF; return;
    case D.OP_XADD: {
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const a = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const b = readG(e, size);
      const r = alu(0, a, b, size);
      writeG(e, size, a);
      if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
      return;
    }
    case D.OP_CMPXCHG: {
      const addr: u64 = isRegRM(e) ? 0 : ea(e);
      const d = isRegRM(e) ? readE(e, size) : readMemW(addr, size);
      if (stop) return;
      const acc = readReg(0, size);
      alu(7, acc, d, size);
      if (acc == d) {
        const s = readG(e, size);
        if (isRegRM(e)) writeE(e, size, s); else writeMem(addr, size, s);
      } else {
        if (!isRegRM(e)) writeMem(addr, size, d);
        writeReg(0, size, d);
      }
      return;
    }
    case D.OP_CMPXCHGB: {
      const addr = ea(e);
      if (size == 16 && (addr & 15) != 0) { raiseGP(0); return; }
      const half = size >> 1;
      const lo = readMemW(addr, half); if (stop) return;
      const hi = readMemW(addr + <u64>half, half); if (stop) return;
      const m = maskOf(<u32>half << 3);
      materialize();
      if (lo == (gpr(RAX) & m) && hi == (gpr(RDX) & m)) {
        writeMem(addr, half, gpr(RBX)); writeMem(addr + <u64>half, half, gpr(RCX));
        rflagsRest |= F_ZF;
      } else {
        writeMem(addr, half, lo); writeMem(addr + <u64>half, half, hi);
        writeReg(RAX << 3, half, lo); writeReg(RDX << 3, half, hi);
        rflagsRest &= ~F_ZF;
      }
      return;
    }
    case D.OP_MOVS: case D.OP_CMPS: case D.OP_STOS: case D.OP_LODS: case D.OP_SCAS:
      execString(e, op, size); return;
    case D.OP_LEAVE: {
      const bp = gpr(RBP);
      ssAccess = true;
      const v = readMem(bp, size);
      ssAccess = false;
      if (stop) return;
      setGpr(RSP, bp + <u64>size);
      writeReg(RBP << 3, size, v);
      return;
    }
    case D.OP_LOOP: {
      const kind = load<u8>(e, D.D_SUB);
      const a32 = load<u8>(e, D.D_ASZ) == 4;
      let c = gpr(RCX);
      if (kind == 3) { // JRCXZ / JECXZ
        if ((a32 ? c & 0xffffffff : c) == 0) nrip += load<u64>(e, D.D_IMM);
        return;
      }
      c = c - 1;
      if (a32) c &= 0xffffffff;
      setGpr(RCX, c);
      let take = c != 0;
      if (kind == 0) take = take && !getZF();
      else if (kind == 1) take = take && getZF();
      if (take) nrip += load<u64>(e, D.D_IMM);
      return;
    }
    case D.OP_MOVBE: {
      if (load<u8>(e, D.D_IMM2) == 0) {
        const v = readE(e, size); if (stop) return;
        writeG(e, size, bswapN(v, size));
      } else writeE(e, size, bswapN(readG(e, size), size));
      return;
    }
    case D.OP_XLAT: {
      // AL = [RBX + AL] (EBX with a 32-bit address size), through the segment override if any.
      ssAccess = false;
      let a = gpr(RBX) + (gpr(RAX) & 0xff);
      if (load<u8>(e, D.D_ASZ) == 4) a &= 0xffffffff;
      const s = load<u8>(e, D.D_SEG);
      const v = readMem(s != 0 ? a + segBaseOf(s) : a, 1); if (stop) return;
      writeReg(0, 1, v);
      return;
    }
    case D.OP_ENTER: execEnter(e, size); return;
    case D.OP_NOP: case D.OP_PAUSE: return;
    case D.OP_UD: raiseUD(); return;
    case D.OP_TOOLONG: raiseGP(0); return;
    case D.OP_UD2: raiseUD(); return;
    case D.OP_RETF: case D.OP_JMPF: case D.OP_CALLF: execFar(e, op, size); return;
  }
  const unit = opUnit(op);
  if (unit == UNIT_SSE) { execSse(e, op); return; }
  if (unit == UNIT_X87) { execX87(e, op); return; }
  execSystem(e, op, size);
}

@inline function isCanonicalAddr(a: u64): bool { return <u64>((<i64>(a << 16)) >> 16) == a; }

function leaAddr(e: usize): u64 {
  // The effective address without any segment base (LEA ignores segments).
  let a: u64 = <u64><i64>load<i32>(e, D.D_DISP);
  const b = load<u8>(e, D.D_BASE);
  if (b < 16) a += gpr(b);
  else if (b == D.B_RIP) a += nrip;
  const x = load<u8>(e, D.D_INDEX);
  if (x < 16) a += gpr(x) << <u64>load<u8>(e, D.D_SCALE);
  if (load<u8>(e, D.D_ASZ) == 4) a &= 0xffffffff;
  return a;
}

/** ENTER imm16, imm8 (SDM Vol. 2 ENTER, 64-bit mode): registers change only if every push succeeds. */
function execEnter(e: usize, size: i32): void {
  const alloc = load<u64>(e, D.D_IMM);
  const level = <i32>(load<u64>(e, D.D_IMM2) & 31);
  const sz = <u64>size;
  const oldSp = gpr(RSP), oldBp = gpr(RBP);
  ssAccess = true;
  let sp = oldSp - sz;
  writeMem(sp, size, oldBp);
  const frame = sp;
  let bp = oldBp;
  for (let i = 1; i < level && !stop; i++) {
    bp -= sz;
    const v = readMem(bp, size);
    if (stop) break;
    sp -= sz;
    writeMem(sp, size, v);
  }
  if (level > 0 && !stop) { sp -= sz; writeMem(sp, size, frame); }
  ssAccess = false;
  if (stop) return;
  writeReg(RBP << 3, size, frame);
  setGpr(RSP, sp - alloc);
}

function bswapN(v: u64, size: i32): u64 {
  if (size == 8) return bswap<u64>(v);
  if (size == 4) return <u64>bswap<u32>(<u32>v);
  return <u64>bswap<u16>(<u16>v);
}

/** Truncating signed multiply (IMUL r, r/m [, imm]): CF=OF=1 when the product does not fit. */
function imulTrunc(a: u64, b: u64, size: i32): u64 {
  const bits = <u32>size << 3;
  let r: u64, overflow: bool;
  if (size == 8) {
    r = imul64(a, b);
    overflow = mulHi != <u64>(<i64>r >> 63);
  } else {
    const full = <i64>sext(a, size) * <i64>sext(b, size);
    r = <u64>full & maskOf(bits);
    overflow = <i64>sext(r, size) != full;
  }
  setStatus((overflow ? F_CF | F_OF : 0) | szpFlags(r, bits));
  return r;
}

@inline function szpFlags(r: u64, bits: u32): u64 {
  let f = parity(r);
  if ((r & maskOf(bits)) == 0) f |= F_ZF;
  if ((r & signOf(bits)) != 0) f |= F_SF;
  return f;
}

function execMulDiv(e: usize, size: i32): void {
  const kind = load<u8>(e, D.D_SUB);
  const src = readE(e, size);
  if (stop) return;
  const bits = <u32>size << 3;
  const m = maskOf(bits);
  if (kind == 4 || kind == 5) { // MUL / IMUL (one operand)
    let lo: u64, hi: u64;
    if (size == 8) {
      lo = kind == 4 ? mul64(gpr(RAX), src) : imul64(gpr(RAX), src);
      hi = mulHi;
    } else {
      const a = readReg(0, size);
      const full: u64 = kind == 4 ? a * src : <u64>(<i64>sext(a, size) * <i64>sext(src, size));
      lo = full & m; hi = (full >> bits) & m;
    }
    const overflow = kind == 4 ? hi != 0 : hi != ((lo & signOf(bits)) != 0 ? m : 0);
    setStatus((overflow ? F_CF | F_OF : 0) | szpFlags(lo, bits));
    if (size == 1) writeReg(0, 2, (hi << 8) | lo);
    else { writeReg(0, size, lo); writeReg(RDX << 3, size, hi); }
    return;
  }
  // DIV / IDIV: #DE on a zero divisor or a quotient that does not fit.
  let hi: u64, lo: u64;
  if (size == 1) { const ax = readReg(0, 2); hi = 0; lo = ax; }
  else if (size == 8) { hi = gpr(RDX); lo = gpr(RAX); }
  else { hi = 0; lo = (readReg(RDX << 3, size) << bits) | readReg(0, size); }
  if (kind == 6) {
    if (src == 0) { raise(0, 0, false); return; }
    if (size == 8) { if (!udiv128(hi, lo, src)) { raise(0, 0, false); return; } }
    else { divQ = lo / src; divR = lo % src; if (divQ > m) { raise(0, 0, false); return; } }
  } else {
    if (src == 0) { raise(0, 0, false); return; }
    if (size == 8) { if (!idiv128(hi, lo, src)) { raise(0, 0, false); return; } }
    else {
      const dividend = <i64>sext(lo, size * 2);
      const divisor = <i64>sext(src, size);
      if (dividend == <i64>0x8000000000000000 && divisor == -1) { raise(0, 0, false); return; }
      const q = dividend / divisor;
      const lim = <i64>1 << (bits - 1);
      if (q >= lim || q < -lim) { raise(0, 0, false); return; }
      divQ = <u64>q & m; divR = <u64>(dividend % divisor) & m;
    }
  }
  if (size == 1) writeReg(0, 2, ((divR & 0xff) << 8) | (divQ & 0xff));
  else { writeReg(0, size, divQ); writeReg(RDX << 3, size, divR); }
}

function execBt(e: usize, size: i32, immForm: bool): void {
  const kind = load<u8>(e, D.D_IMM2); // 0 BT, 1 BTS, 2 BTR, 3 BTC
  const bits = <u64>(size << 3);
  let off: u64 = immForm ? load<u64>(e, D.D_IMM) : readG(e, size);
  let bit: u64, v: u64, addr: u64 = 0;
  if (isRegRM(e)) {
    bit = off & (bits - 1);
    v = readE(e, size);
  } else {
    addr = ea(e);
    if (immForm) bit = off & (bits - 1);
    else {
      // A register bit offset addresses memory beyond the operand (signed).
      const soff = <i64>sext(off, size);
      const shiftBits: i64 = size == 8 ? 6 : size == 4 ? 5 : 4;
      addr += <u64>((soff >> shiftBits) * <i64>size);
      bit = <u64>soff & (bits - 1);
    }
    v = kind == 0 ? readMem(addr, size) : readMemW(addr, size);
    if (stop) return;
  }
  materialize();
  const cf = (v >> bit) & 1;
  rflagsRest = (rflagsRest & ~F_CF) | cf;
  if (kind == 0) return;
  let r = v;
  if (kind == 1) r |= <u64>1 << bit;
  else if (kind == 2) r &= ~(<u64>1 << bit);
  else r ^= <u64>1 << bit;
  if (isRegRM(e)) writeE(e, size, r); else writeMem(addr, size, r);
}

function execPopf(size: i32): void {
  const v = peek(0, size);
  if (stop) return;
  setGpr(RSP, gpr(RSP) + <u64>size);
  const old = getRflags();
  // Changeable bits: at CPL 0 all but VM/VIF/VIP; IOPL only at CPL 0; IF only when CPL <= IOPL (SDM POPF).
  let mask: u64 = STATUS_FLAGS | F_TF | F_DF | F_NT_AC_ID;
  const iopl = <i32>((old >> 12) & 3);
  if (cpl == 0) mask |= F_IOPL;
  if (cpl <= iopl) mask |= F_IF;
  if (size == 2) mask &= 0xffff;
  setRflags((old & ~mask) | (v & mask));
}
const F_NT_AC_ID: u64 = (1 << 14) | (1 << 18) | (1 << 21);

// ---- string instructions (SDM Vol. 1 7.3.9) --------------------------------
function execString(e: usize, op: i32, size: i32): void {
  ssAccess = false; // RSI/RDI addressing: DS/ES, never the stack segment
  const pfx = load<u8>(e, D.D_PFX);
  const rep = (pfx & (D.P_REP | D.P_REPNE)) != 0;
  const a32 = load<u8>(e, D.D_ASZ) == 4;
  const amask: u64 = a32 ? 0xffffffff : 0xffffffffffffffff;
  const step: u64 = (rflagsRest & F_DF) != 0 ? <u64>(-size) : <u64>size;
  const seg = load<u8>(e, D.D_SEG);
  const srcBase: u64 = seg != 0 ? segBaseOf(seg) : 0;
  let n: u64 = 0;
  // Single-stepping (RFLAGS.TF) traps after each iteration (SDM Vol. 3B 17.3.1.4): one per run.
  const chunk: u64 = (rflagsRest & F_TF) != 0 ? 1 : REP_CHUNK;
  while (true) {
    if (rep) {
      const c = gpr(RCX) & amask;
      if (c == 0) return;
      if (n == chunk) { nrip = rip; partial = true; return; } // resume here later
    }
    const si = gpr(RSI) & amask, di = gpr(RDI) & amask;
    switch (op) {
      case D.OP_MOVS: {
        const v = readMem(srcBase + si, size); if (stop) return;
        writeMem(di, size, v); if (stop) return;
        setIdx(RSI, si + step, a32); setIdx(RDI, di + step, a32);
        break;
      }
      case D.OP_STOS: {
        writeMem(di, size, readReg(0, size)); if (stop) return;
        setIdx(RDI, di + step, a32);
        break;
      }
      case D.OP_LODS: {
        const v = readMem(srcBase + si, size); if (stop) return;
        writeReg(0, size, v);
        setIdx(RSI, si + step, a32);
        break;
      }
      case D.OP_CMPS: {
        const a = readMem(srcBase + si, size); if (stop) return;
        const b = readMem(di, size); if (stop) return;
        alu(7, a, b, size);
        setIdx(RSI, si + step, a32); setIdx(RDI, di + step, a32);
        break;
      }
      default: { // SCAS
        const b = readMem(di, size); if (stop) return;
        alu(7, readReg(0, size), b, size);
        setIdx(RDI, di + step, a32);
        break;
      }
    }
    if (!rep) return;
    setIdx(RCX, (gpr(RCX) & amask) - 1, a32);
    n++;
    if (op == D.OP_CMPS || op == D.OP_SCAS) {
      const z = getZF();
      if ((pfx & D.P_REP) != 0 && !z) return;   // REPE: stop when not equal
      if ((pfx & D.P_REPNE) != 0 && z) return;  // REPNE: stop when equal
    }
  }
}
@inline function setIdx(r: i32, v: u64, a32: bool): void { setGpr(r, a32 ? v & 0xffffffff : v); }
import { segBase } from "./state";
@inline function segBaseOf(s: u8): u64 { return segBase(<i32>s); }

