// The integer operations the JIT does inline (jit/gen.ts), each as exec.ts does it, operands read
// in the same order and flags set as alu.ts/flags.ts set them (SDM Vol. 2 instruction pages; the
// lazy-flags record of flags.ts, kept in the region's locals, jit/state.ts). Conditions after a
// known flag-setting operation of the same block compare its operands directly (QEMU's and
// Blink's compare-and-branch fusion); otherwise flags.ts testCCFast decides.
import * as D from "../decode";
import * as E from "./emit";
import { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC, LF_NEG } from "../flags";
import { L_A, L_B, L_R, L_V, L_LA, L_FA, L_FB, L_FR, L_FOP, L_FMASK, L_FCARRY, syncFlagsOut, deferStatus, dropStatus, settleStatus } from "./state";
import { regRead, regWrite, maskOf, effAddr, ssOf, memRead, memWrite, readE, writeE, linear } from "./gen-mem";
import { nBlocks, blockOff, isReturnSite } from "./region";
import { flagsKind, flagsSize, setFlagsKnown, retire, flushPending, goTo, epochCheck, exitToRip, fallbackIf } from "./gen";

// ---- flags ----------------------------------------------------------------------------------------
/** setLazy of flags.ts from L_A, L_B, L_R. */
function setLazy(kind: i32, size: i32): void {
  dropStatus();
  E.lget(L_A); E.lset(L_FA); E.lget(L_B); E.lset(L_FB); E.lget(L_R); E.lset(L_FR);
  E.i32c(kind); E.lset(L_FOP); E.i64c(maskOf(size)); E.lset(L_FMASK);
  setFlagsKnown(kind, size);
}
/** Sign-extends the masked value on the stack from `size` bytes. */
function sext(size: i32): void {
  if (size == 1) E.op(E.I64_EXTEND8_S);
  else if (size == 2) E.op(E.I64_EXTEND16_S);
  else if (size == 4) E.op(E.I64_EXTEND32_S);
}
function sfOf(): void { E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LT_S); }

/** getCF() of flags.ts as an i64 0 or 1. */
function carry(): void {
  const k = flagsKind;
  if (k == LF_SUB) { E.lget(L_FA); E.lget(L_FB); E.op(E.I64_LT_U); E.op(E.I64_EXTEND_I32_U); return; }
  if (k == LF_LOGIC) { E.i64c(0); return; }
  if (k == LF_ADD) { E.lget(L_FR); E.lget(L_FA); E.op(E.I64_LT_U); E.op(E.I64_EXTEND_I32_U); return; }
  if (k == LF_INC || k == LF_DEC) { E.lget(L_FCARRY); E.i64c(0); E.op(E.I64_NE); E.op(E.I64_EXTEND_I32_U); return; }
  if (k == LF_NEG) { E.lget(L_FA); E.i64c(0); E.op(E.I64_NE); E.op(E.I64_EXTEND_I32_U); return; }
  settleStatus(); syncFlagsOut(); E.i32c(2); E.call(E.F_TESTCC); E.op(E.I64_EXTEND_I32_U);
}

/** Condition `cc` (SDM Vol. 1 App. B) as an i32. */
export function cond(cc: u32): void {
  const neg = (cc & 1) != 0;
  const base = cc & ~1;
  const k = flagsKind;
  let done = true;
  if (k == LF_SUB) {
    switch (base) {
      case 2: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_LT_U); break;            // CF
      case 4: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_EQ); break;              // ZF
      case 6: E.lget(L_FA); E.lget(L_FB); E.op(E.I64_LE_U); break;            // CF | ZF
      case 8: sfOf(); break;                                                  // SF
      case 12: E.lget(L_FA); sext(flagsSize); E.lget(L_FB); sext(flagsSize); E.op(E.I64_LT_S); break; // SF != OF
      case 14: E.lget(L_FA); sext(flagsSize); E.lget(L_FB); sext(flagsSize); E.op(E.I64_LE_S); break; // ZF | SF != OF
      default: done = false;
    }
  } else if (k == LF_LOGIC) { // CF = OF = 0
    switch (base) {
      case 0: case 2: E.i32c(0); break;
      case 4: case 6: E.lget(L_FR); E.op(E.I64_EQZ); break;
      case 8: case 12: sfOf(); break;
      case 14: E.lget(L_FR); sext(flagsSize); E.i64c(0); E.op(E.I64_LE_S); break;
      default: done = false;
    }
  } else if (k == LF_ADD || k == LF_INC || k == LF_DEC) {
    switch (base) {
      case 2: if (k == LF_ADD) { E.lget(L_FR); E.lget(L_FA); E.op(E.I64_LT_U); } else { E.lget(L_FCARRY); E.i64c(0); E.op(E.I64_NE); } break;
      case 4: E.lget(L_FR); E.op(E.I64_EQZ); break;
      case 8: sfOf(); break;
      default: done = false;
    }
  } else done = false;
  if (done) { if (neg) E.op(E.I32_EQZ); return; }
  settleStatus(); syncFlagsOut(); E.i32c(<i32>cc); E.call(E.F_TESTCC);
}

/** Return sites a RET compares its target with, at most, before it leaves the region. */
const MAX_RETURN_SITES = 8;

// ---- arithmetic ------------------------------------------------------------------------------------
/** The group-1 operations (ADD OR ADC SBB AND SUB XOR CMP) of alu.ts on L_A, L_B (masked): L_R, flags. */
function alu(kind: u32, size: i32): void {
  const m = maskOf(size);
  if (kind == 2 || kind == 3) {
    carry(); E.lset(L_V);
    E.lget(L_A); E.lget(L_B); E.op(kind == 2 ? E.I64_ADD : E.I64_SUB); E.lget(L_V); E.op(kind == 2 ? E.I64_ADD : E.I64_SUB);
    if (size != 8) { E.i64c(m); E.op(E.I64_AND); }
    E.lset(L_R);
    E.lget(L_V); E.lset(L_FCARRY);
    setLazy(kind == 2 ? LF_ADC : LF_SBB, size);
    return;
  }
  E.lget(L_A); E.lget(L_B);
  E.op(kind == 0 ? E.I64_ADD : kind == 1 ? E.I64_OR : kind == 4 ? E.I64_AND : kind == 6 ? E.I64_XOR : E.I64_SUB);
  if (size != 8 && (kind == 0 || kind == 5 || kind == 7)) { E.i64c(m); E.op(E.I64_AND); }
  E.lset(L_R);
  setLazy(kind == 0 ? LF_ADD : kind == 5 || kind == 7 ? LF_SUB : LF_LOGIC, size);
}

/**
 * SHL/SAL, SHR, SAR of L_A by a constant count `c` (1..31, or ..63 at 64 bits) as alu.ts shift():
 * L_R, and the six status flags made concrete (setStatus: AF clear), the lazy record emptied.
 */
function shift(kind: u32, size: i32, c: u32): void {
  const bits = <u32>size * 8;
  const m = maskOf(size);
  if (kind == 4 || kind == 6) {
    if (c >= bits) E.i64c(0); else { E.lget(L_A); E.i64c(<i64>c); E.op(E.I64_SHL); E.i64c(m); E.op(E.I64_AND); }
    E.lset(L_R);
    if (c > bits) E.i64c(0); else { E.lget(L_A); E.i64c(<i64>(bits - c)); E.op(E.I64_SHR_U); E.i64c(1); E.op(E.I64_AND); }
    E.lset(L_B); // CF
    E.lget(L_R); E.i64c(<i64>(bits - 1)); E.op(E.I64_SHR_U); E.lget(L_B); E.op(E.I64_XOR); E.i64c(1); E.op(E.I64_AND);
  } else if (kind == 5) {
    if (c >= bits) E.i64c(0); else { E.lget(L_A); E.i64c(<i64>c); E.op(E.I64_SHR_U); }
    E.lset(L_R);
    if (c > bits) E.i64c(0); else { E.lget(L_A); E.i64c(<i64>(c - 1)); E.op(E.I64_SHR_U); E.i64c(1); E.op(E.I64_AND); }
    E.lset(L_B);
    E.lget(L_A); E.i64c(<i64>(bits - 1)); E.op(E.I64_SHR_U); E.i64c(1); E.op(E.I64_AND);
  } else {
    const sc = c >= bits ? bits - 1 : c;
    E.lget(L_A); sext(size); E.i64c(<i64>sc); E.op(E.I64_SHR_S); E.i64c(m); E.op(E.I64_AND); E.lset(L_R);
    E.lget(L_A); sext(size); E.i64c(<i64>(sc == c ? c - 1 : bits - 1)); E.op(E.I64_SHR_S); E.i64c(1); E.op(E.I64_AND);
    E.lset(L_B);
    E.i64c(0);
  }
  E.i64c(11); E.op(E.I64_SHL); E.lget(L_B); E.op(E.I64_OR);
  setStatus(size);
}

/** setStatus (flags.ts) with CF and OF on the stack (as RFLAGS bits) and PF, ZF, SF of L_R, made
 *  concrete where they can be seen (state.ts deferStatus); the lazy record emptied. */
function setStatus(size: i32): void {
  deferStatus(L_R, size);
  setFlagsKnown(LF_NONE, size);
}

/** Emits instruction `e` at page offset `off` inline; false when the interpreter must run it. */
export function inline(e: usize, op: i32, off: i64, next: i64, len: u32, last: bool): bool {
  const size = <i32>load<u8>(e, D.D_OSZ);
  const reg = <u32>load<u16>(e, D.D_REG);
  const rm = load<u16>(e, D.D_RM);
  switch (op) {
    case D.OP_NOP: case D.OP_PAUSE: return true; // exec.ts: nothing to do
    case D.OP_MOV_EG:
      regRead(reg, size); E.lset(L_V);
      writeE(e, size, false, off, next, len); return true;
    case D.OP_MOV_GE:
      readE(e, size, L_V, 0, off, next, len);
      regWrite(reg, size, L_V); return true;
    case D.OP_MOV_EI:
      E.i64c(load<i64>(e, D.D_IMM)); E.lset(L_V);
      writeE(e, size, false, off, next, len); return true;
    case D.OP_LEA:
      effAddr(e, next, false); E.lset(L_V);
      regWrite(reg, size, L_V); return true;
    case D.OP_MOVZX: case D.OP_MOVSX: {
      const ss = <i32>load<u8>(e, D.D_SUB);
      readE(e, ss, L_V, 0, off, next, len);
      if (op == D.OP_MOVSX) { E.lget(L_V); sext(ss); E.lset(L_V); }
      regWrite(reg, size, L_V); return true;
    }
    case D.OP_ALU_EG: case D.OP_ALU_EI: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      if (op == D.OP_ALU_EG) regRead(reg, size); else E.i64c(load<i64>(e, D.D_IMM) & maskOf(size));
      E.lset(L_B);
      if (rm != D.RM_MEM) {
        regRead(<u32>rm, size); E.lset(L_A);
        alu(kind, size);
        if (kind != 7) regWrite(<u32>rm, size, L_R);
      } else {
        effAddr(e, next, true); E.lset(L_LA);
        memRead(size, kind == 7 ? 0 : 1, ssOf(e), off, len); E.lset(L_A);
        alu(kind, size);
        if (kind != 7) { E.lget(L_R); E.lset(L_V); memWrite(size, ssOf(e), off, len); }
      }
      return true;
    }
    case D.OP_ALU_GE: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      readE(e, size, L_B, 0, off, next, len);
      regRead(reg, size); E.lset(L_A);
      alu(kind, size);
      if (kind != 7) regWrite(reg, size, L_R);
      return true;
    }
    case D.OP_TEST_EG: case D.OP_TEST_EI:
      readE(e, size, L_A, 0, off, next, len);
      if (op == D.OP_TEST_EG) regRead(reg, size); else E.i64c(load<i64>(e, D.D_IMM) & maskOf(size));
      E.lset(L_B);
      alu(4, size);
      return true;
    case D.OP_INC: case D.OP_DEC: case D.OP_NOT: case D.OP_NEG: {
      // Read (with write intent), compute, flags, write: exec.ts OP_INC/DEC, OP_NEG/NOT.
      readE(e, size, L_A, 1, off, next, len);
      const m = maskOf(size);
      if (op == D.OP_NOT) { E.lget(L_A); E.i64c(~0); E.op(E.I64_XOR); }
      else if (op == D.OP_NEG) { E.i64c(0); E.lget(L_A); E.op(E.I64_SUB); }
      else { E.lget(L_A); E.i64c(1); E.op(op == D.OP_INC ? E.I64_ADD : E.I64_SUB); }
      if (size != 8) { E.i64c(m); E.op(E.I64_AND); }
      E.lset(L_R);
      if (op == D.OP_INC || op == D.OP_DEC) {
        carry(); E.lset(L_FCARRY); // lfCarry = getCF(), before the new record
        E.i64c(1); E.lset(L_B);
        setLazy(op == D.OP_INC ? LF_INC : LF_DEC, size);
      } else if (op == D.OP_NEG) {
        E.i64c(0); E.lset(L_B);
        setLazy(LF_NEG, size);
      }
      E.lget(L_R); E.lset(L_V);
      writeE(e, size, true, off, next, len);
      return true;
    }
    case D.OP_SHIFT: {
      const kind = <u32>load<u8>(e, D.D_SUB);
      if (load<u8>(e, D.D_IMM2) != 0 || kind < 4) return false; // by CL, or a rotate: the interpreter
      readE(e, size, L_A, 1, off, next, len);
      const c = <u32>(load<u64>(e, D.D_IMM) & (size == 8 ? 63 : 31));
      if (c != 0) shift(kind, size, c); else { E.lget(L_A); E.lset(L_R); }
      E.lget(L_R); E.lset(L_V);
      writeE(e, size, true, off, next, len);
      return true;
    }
    case D.OP_IMUL_GE: case D.OP_IMUL_GEI: {
      // imulTrunc of exec.ts at 16 and 32 bits (64 needs the high half: the interpreter's).
      if (size == 8) return false;
      readE(e, size, L_A, 0, off, next, len);
      E.lget(L_A); sext(size);
      if (op == D.OP_IMUL_GE) { regRead(reg, size); sext(size); }
      else { E.i64c(load<i64>(e, D.D_IMM) & maskOf(size)); sext(size); }
      E.op(E.I64_MUL); E.lset(L_B);                       // the full product
      E.lget(L_B); E.i64c(maskOf(size)); E.op(E.I64_AND); E.lset(L_R);
      E.lget(L_R); sext(size); E.lget(L_B); E.op(E.I64_NE); // overflow: CF = OF = 1
      E.op(E.I64_EXTEND_I32_U); E.i64c(0x801); E.op(E.I64_MUL);
      setStatus(size);
      regWrite(reg, size, L_R);
      return true;
    }
    case D.OP_BSWAP: {
      if (size != 4 && size != 8) return false;
      // Byte i moves to byte size-1-i (exec.ts OP_BSWAP).
      regRead(<u32>rm, size); E.lset(L_A);
      E.i64c(0);
      for (let i = 0; i < size; i++) {
        E.lget(L_A); if (i != 0) { E.i64c(<i64>(i * 8)); E.op(E.I64_SHR_U); } E.i64c(0xff); E.op(E.I64_AND);
        const to = (size - 1 - i) * 8;
        if (to != 0) { E.i64c(<i64>to); E.op(E.I64_SHL); }
        E.op(E.I64_OR);
      }
      E.lset(L_V);
      regWrite(<u32>rm, size, L_V);
      return true;
    }
    case D.OP_CONV_A: {
      // CBW/CWDE/CDQE (exec.ts OP_CONV_A): AX, EAX or RAX from the half below it, sign-extended.
      regRead(0, size >> 1); sext(size >> 1); E.lset(L_V);
      regWrite(0, size, L_V);
      return true;
    }
    case D.OP_CONV_D:
      // CWD/CDQ/CQO: rDX all ones or zero by rAX's sign.
      E.i64c(0); regRead(0, size); E.i64c(<i64>(size * 8 - 1)); E.op(E.I64_SHR_U); E.op(E.I64_SUB); E.lset(L_V);
      regWrite(16, size, L_V);
      return true;
    case D.OP_XCHG:
      if (rm == D.RM_MEM) return false;
      // Both registers read, then E written, then G (exec.ts: the order matters when they alias).
      regRead(<u32>rm, size); E.lset(L_A); regRead(reg, size); E.lset(L_V);
      regWrite(<u32>rm, size, L_V); regWrite(reg, size, L_A);
      return true;
    case D.OP_LEAVE:
      // readMem(RBP, size) (an SS access), RSP = RBP + size, then RBP (exec.ts OP_LEAVE).
      regRead(40, 8); E.lset(L_LA);
      memRead(size, 0, 1, off, len); E.lset(L_V);
      E.lget(L_LA); E.i64c(<i64>size); E.op(E.I64_ADD); E.lset(L_B); regWrite(32, 8, L_B);
      regWrite(40, size, L_V);
      return true;
    case D.OP_SETCC:
      cond(<u32>load<u8>(e, D.D_SUB)); E.op(E.I64_EXTEND_I32_U); E.lset(L_V);
      writeE(e, 1, false, off, next, len);
      return true;
    case D.OP_CMOVCC:
      // A 32-bit CMOV writes (zero-extends) the destination even when false (exec.ts).
      readE(e, size, L_V, 0, off, next, len);
      E.lget(L_V); regRead(reg, size); cond(<u32>load<u8>(e, D.D_SUB)); E.op(E.SELECT); E.lset(L_V);
      regWrite(reg, size, L_V);
      return true;
    case D.OP_PUSH_R: case D.OP_PUSH_I:
      // push() of exec.ts: write at RSP - size (an SS access), then commit RSP.
      if (op == D.OP_PUSH_R) regRead(<u32>rm, size); else E.i64c(load<i64>(e, D.D_IMM));
      E.lset(L_V);
      regRead(32, 8); E.i64c(<i64>size); E.op(E.I64_SUB); E.lset(L_LA);
      memWrite(size, 1, off, len);
      E.lget(L_LA); E.lset(L_V); regWrite(32, 8, L_V);
      return true;
    case D.OP_POP_R:
      regRead(32, 8); E.lset(L_LA);
      memRead(size, 0, 1, off, len); E.lset(L_V);
      E.lget(L_LA); E.i64c(<i64>size); E.op(E.I64_ADD); E.lset(L_B); regWrite(32, 8, L_B);
      regWrite(<u32>rm, size, L_V);
      return true;
    case D.OP_JCC: {
      if (!last) return false;
      const t = next + load<i64>(e, D.D_IMM);
      cond(<u32>load<u8>(e, D.D_SUB));
      retire(e); flushPending();
      E.iff(); goTo(t); E.end();
      goTo(next);
      return true;
    }
    case D.OP_JMP:
      if (!last) return false;
      retire(e); flushPending();
      goTo(next + load<i64>(e, D.D_IMM));
      return true;
    case D.OP_CALL: {
      if (!last || size != 8) return false;
      // push(nrip, 8), then the jump (exec.ts OP_CALL).
      const t = next + load<i64>(e, D.D_IMM);
      linear(next); E.lset(L_V);
      regRead(32, 8); E.i64c(8); E.op(E.I64_SUB); E.lset(L_LA);
      memWrite(8, 1, off, len);
      E.lget(L_LA); E.lset(L_V); regWrite(32, 8, L_V);
      retire(e);
      epochCheck(t); // the interpreter leaves the block at the target
      flushPending();
      goTo(t);
      return true;
    }
    case D.OP_RET: {
      if (!last || size != 8) return false;
      // peek(0, 8) (an SS access), the canonical check (else the interpreter raises #GP), RSP, RIP.
      regRead(32, 8); E.lset(L_LA);
      memRead(8, 0, 1, off, len); E.lset(L_V);
      E.lget(L_V); E.i64c(16); E.op(E.I64_SHL); E.i64c(16); E.op(E.I64_SHR_S); E.lget(L_V); E.op(E.I64_NE);
      if (!fallbackIf(e, off)) return false;
      E.lget(L_LA); E.i64c(8 + load<i64>(e, D.D_IMM)); E.op(E.I64_ADD); E.lset(L_B); regWrite(32, 8, L_B);
      retire(e); flushPending();
      // Back to a block of the region after one of its CALLs: on as a branch there would go.
      let sites = 0;
      for (let k = 0; k < nBlocks && sites < MAX_RETURN_SITES; k++) {
        if (!isReturnSite(k)) continue;
        sites++;
        E.lget(L_V); linear(<i64>blockOff(k)); E.op(E.I64_EQ);
        E.iff(); goTo(<i64>blockOff(k)); E.end();
      }
      exitToRip(L_V);
      return true;
    }
  }
  return false;
}
