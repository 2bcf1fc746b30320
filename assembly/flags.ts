// Lazy arithmetic flags: the last flag-writing ALU operation is remembered
// (kind, operands, result, width) and CF/PF/AF/ZF/SF/OF are computed only
// when something reads them (Jcc, SETcc, PUSHF, ...). `rflagsRest` holds every
// other RFLAGS bit, and the status bits whenever lfOp == LF_NONE.
import { F_CF, F_PF, F_AF, F_ZF, F_SF, F_OF, STATUS_FLAGS, F_FIXED1 } from "./state";

export const LF_NONE = 0;
export const LF_ADD = 1;
export const LF_ADC = 2;
export const LF_SUB = 3;
export const LF_SBB = 4;
export const LF_LOGIC = 5;
export const LF_INC = 6;
export const LF_DEC = 7;
export const LF_NEG = 8;

export let rflagsRest: u64 = F_FIXED1;
/** RFLAGS.IOPL: the I/O privilege level (SDM Vol. 1 3.4.3.3). */
@inline export function iopl(): i32 { return <i32>((rflagsRest >> 12) & 3); }
export let lfOp: i32 = LF_NONE;
export let lfA: u64 = 0;
export let lfB: u64 = 0;
export let lfRes: u64 = 0;
export let lfMask: u64 = 0xffffffffffffffff; // operand-size mask of the last operation
export let lfCarry: u64 = 0; // CF in for ADC/SBB, CF kept across INC/DEC

@inline export function maskOf(bits: u32): u64 { return bits == 64 ? 0xffffffffffffffff : ((<u64>1 << bits) - 1); }
@inline export function signOf(bits: u32): u64 { return <u64>1 << (bits - 1); }

@inline export function setLazy(op: i32, a: u64, b: u64, res: u64, mask: u64): void {
  lfOp = op; lfA = a; lfB = b; lfRes = res; lfMask = mask;
}

export function getCF(): bool {
  switch (lfOp) {
    case LF_NONE: return (rflagsRest & F_CF) != 0;
    case LF_ADD: return (lfRes & lfMask) < (lfA & lfMask);
    case LF_ADC: {
      const m = lfMask;
      return lfCarry != 0 ? (lfRes & m) <= (lfA & m) : (lfRes & m) < (lfA & m);
    }
    case LF_SUB: return (lfA & lfMask) < (lfB & lfMask);
    case LF_SBB: {
      const m = lfMask;
      return lfCarry != 0 ? (lfA & m) <= (lfB & m) : (lfA & m) < (lfB & m);
    }
    case LF_LOGIC: return false;
    case LF_INC: case LF_DEC: return lfCarry != 0;
    case LF_NEG: return (lfA & lfMask) != 0;
  }
  return false;
}

@inline export function getZF(): bool {
  if (lfOp == LF_NONE) return (rflagsRest & F_ZF) != 0;
  return (lfRes & lfMask) == 0;
}

@inline export function getSF(): bool {
  if (lfOp == LF_NONE) return (rflagsRest & F_SF) != 0;
  return (lfRes & (lfMask ^ (lfMask >> 1))) != 0;
}

export function getOF(): bool {
  const s = (lfMask ^ (lfMask >> 1));
  switch (lfOp) {
    case LF_NONE: return (rflagsRest & F_OF) != 0;
    case LF_ADD: case LF_ADC: case LF_INC:
      return (((lfA ^ lfRes) & (lfB ^ lfRes)) & s) != 0;
    case LF_SUB: case LF_SBB: case LF_DEC:
      return (((lfA ^ lfB) & (lfA ^ lfRes)) & s) != 0;
    case LF_NEG: return (lfRes & lfMask) == s;
  }
  return false;
}

export function getPF(): bool {
  if (lfOp == LF_NONE) return (rflagsRest & F_PF) != 0;
  return (popcnt<u32>(<u32>lfRes & 0xff) & 1) == 0;
}

export function getAF(): bool {
  switch (lfOp) {
    case LF_NONE: return (rflagsRest & F_AF) != 0;
    case LF_LOGIC: return false;
    case LF_NEG: return ((lfRes ^ lfA) & 0x10) != 0;
  }
  return ((lfA ^ lfB ^ lfRes) & 0x10) != 0;
}

/** Full RFLAGS with the status bits computed. */
export function getRflags(): u64 {
  if (lfOp == LF_NONE) return rflagsRest;
  let f = rflagsRest & ~STATUS_FLAGS;
  if (getCF()) f |= F_CF;
  if (getPF()) f |= F_PF;
  if (getAF()) f |= F_AF;
  if (getZF()) f |= F_ZF;
  if (getSF()) f |= F_SF;
  if (getOF()) f |= F_OF;
  return f;
}

/** Makes the status flags concrete (before an instruction edits single flags). */
export function materialize(): void {
  if (lfOp != LF_NONE) { rflagsRest = getRflags(); lfOp = LF_NONE; }
}

/** Loads RFLAGS wholesale (POPF, IRET, VM entry); bit 1 always reads as 1. */
export function setRflags(v: u64): void {
  rflagsRest = (v & 0x3f7fd5) | F_FIXED1; lfOp = LF_NONE;
}

/** Sets the six status flags from a precomputed word (used by shifts, MUL, ...). */
@inline export function setStatus(status: u64): void {
  materialize();
  rflagsRest = (rflagsRest & ~STATUS_FLAGS) | (status & STATUS_FLAGS);
}

@inline export function parity(v: u64): u64 { return (popcnt<u32>(<u32>v & 0xff) & 1) == 0 ? F_PF : 0; }

/** Condition codes 0..15 as in Jcc/SETcc/CMOVcc (SDM Vol. 1 App. B). */
export function testCC(cc: u32): bool {
  let r: bool;
  switch (cc >> 1) {
    case 0: r = getOF(); break;
    case 1: r = getCF(); break;
    case 2: r = getZF(); break;
    case 3: r = getCF() || getZF(); break;
    case 4: r = getSF(); break;
    case 5: r = getPF(); break;
    case 6: r = getSF() != getOF(); break;
    default: r = getZF() || (getSF() != getOF()); break;
  }
  return (cc & 1) != 0 ? !r : r;
}

/**
 * Condition test with fast paths for the common case, a Jcc/SETcc/CMOVcc right
 * after CMP/SUB (compare the operands directly) or testing ZF after anything.
 */
@inline export function testCCFast(cc: u32): bool {
  if (lfOp == LF_SUB) {
    const m = lfMask;
    const a = lfA & m, b = lfB & m;
    switch (cc) {
      case 2: return a < b;
      case 3: return a >= b;
      case 4: return a == b;
      case 5: return a != b;
      case 6: return a <= b;
      case 7: return a > b;
      case 12: case 13: case 14: case 15: {
        const sh = <u64>clz<u64>(m);
        const sa = <i64>(a << sh), sb = <i64>(b << sh);
        if (cc == 12) return sa < sb;
        if (cc == 13) return sa >= sb;
        if (cc == 14) return sa <= sb;
        return sa > sb;
      }
    }
  } else if (lfOp != LF_NONE && (cc == 4 || cc == 5)) {
    return ((lfRes & lfMask) == 0) == (cc == 4);
  }
  return testCC(cc);
}
