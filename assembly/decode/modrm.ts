// ModRM, SIB and displacement in 64-bit mode (SDM Vol. 2A 2.1.3, 2.1.5 Tables 2-2/2-3, 2.2.1.1-2
// for REX.R/X/B, 2.2.1.6 RIP-relative): resolves the register operands to byte offsets in the
// register file and the memory operand to a base/index/scale/displacement recipe in the entry.
import { nb, imm32, peek } from "./fetch";
import { rex } from "./prefix";
import { D_SUB, D_REGNUM, D_REG, D_RMNUM, D_RM, D_BASE, D_INDEX, D_SCALE, D_DISP, D_SSDEF, RM_MEM, B_NONE, B_RIP } from "./entry";

/** The last ModRM decoded selected memory (mod != 3). */
export let isMem: bool = false;

/** Byte offset in the register file of register n at the given size. */
@inline export function regOff(n: u32, size: i32): u16 {
  // Without REX, byte registers 4..7 are AH, CH, DH, BH (byte 1 of regs 0..3).
  if (size == 1 && rex == 0 && n >= 4 && n < 8) return <u16>(((n - 4) << 3) + 1);
  return <u16>(n << 3);
}

/** ModRM (+ SIB + displacement). Returns the reg digit. */
export function modrm(e: usize, regSize: i32, rmSize: i32): u32 {
  const m = nb();
  const mod = m >> 6;
  const digit = (m >> 3) & 7;
  const reg = digit | ((rex & 4) << 1);
  let rm = m & 7;
  store<u8>(e, <u8>digit, D_SUB);
  store<u8>(e, <u8>reg, D_REGNUM);
  store<u16>(e, regOff(reg, regSize), D_REG);
  if (mod == 3) {
    rm |= (rex & 1) << 3;
    store<u8>(e, <u8>rm, D_RMNUM);
    store<u16>(e, regOff(rm, rmSize), D_RM);
    isMem = false;
    return digit;
  }
  isMem = true;
  store<u16>(e, RM_MEM, D_RM);
  let base: u32 = B_NONE, index: u32 = B_NONE, scale: u32 = 0;
  let disp: i32 = 0;
  if (rm == 4) {
    const sib = nb();
    scale = sib >> 6;
    index = ((sib >> 3) & 7) | ((rex & 2) << 2);
    if (index == 4) index = B_NONE;
    const b = sib & 7;
    if (b == 5 && mod == 0) { base = B_NONE; disp = <i32>imm32(); }
    else base = b | ((rex & 1) << 3);
  } else if (rm == 5 && mod == 0) {
    base = B_RIP; disp = <i32>imm32();
  } else {
    base = rm | ((rex & 1) << 3);
  }
  if (mod == 1) disp = <i32><i8><u8>nb();
  else if (mod == 2) disp = <i32>imm32();
  store<u8>(e, <u8>base, D_BASE);
  store<u8>(e, <u8>index, D_INDEX);
  store<u8>(e, <u8>scale, D_SCALE);
  store<i32>(e, disp, D_DISP);
  store<u8>(e, (base == 4 || base == 5) ? 1 : 0, D_SSDEF);
  return digit;
}

/** A register operand encoded in the low opcode bits (PUSH r, MOV r, imm, BSWAP, XCHG rAX). */
export function opReg(e: usize, b: u32, size: i32): void {
  const n = (b & 7) | ((rex & 1) << 3);
  store<u8>(e, <u8>n, D_RMNUM);
  store<u16>(e, regOff(n, size), D_RM);
}

/** Whether the next ModRM byte selects memory (mod != 3), without consuming it. */
export function isMemNext(): bool { return (peek() >> 6) != 3; }
/** The next ModRM byte's reg digit, without consuming it. */
export function digitNext(): u32 { return (peek() >> 3) & 7; }
