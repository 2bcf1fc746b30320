// Operand access for decoded instructions: registers by byte offset into the
// register file, memory by the effective-address recipe (SDM Vol. 1 3.7.5).
import { REGS } from "./layout";
import { D_BASE, D_INDEX, D_SCALE, D_SEG, D_DISP, D_ASZ, D_RM, D_REG, D_IMM2, D_SSDEF, B_RIP, B_ABS, RM_MEM } from "./decode";
import { gpr, nrip, segBase } from "./state";
import { readMem, readMemW, writeMem, ssAccess } from "./mmu";

/** Effective address -> linear address. */
@inline export function ea(e: usize): u64 {
  let a: u64 = <u64><i64>load<i32>(e, D_DISP);
  const b = load<u8>(e, D_BASE);
  if (b < 16) a += gpr(b);
  else if (b == B_RIP) a += nrip;
  else if (b == B_ABS) a = load<u64>(e, D_IMM2);
  const x = load<u8>(e, D_INDEX);
  if (x < 16) a += gpr(x) << <u64>load<u8>(e, D_SCALE);
  if (load<u8>(e, D_ASZ) == 4) a &= 0xffffffff;
  const s = load<u8>(e, D_SEG);
  if (s != 0) a += segBase(s);
  ssAccess = s == 0 && load<u8>(e, D_SSDEF) != 0;
  return a;
}

@inline export function readReg(off: usize, size: i32): u64 {
  const p = REGS + off;
  if (size == 8) return load<u64>(p);
  if (size == 4) return <u64>load<u32>(p);
  if (size == 1) return <u64>load<u8>(p);
  return <u64>load<u16>(p);
}

/** Register write with the 64-bit mode rules: 32-bit writes zero-extend, 8/16 merge. */
@inline export function writeReg(off: usize, size: i32, v: u64): void {
  const p = REGS + off;
  if (size == 8) store<u64>(p, v);
  else if (size == 4) store<u64>(p, v & 0xffffffff);
  else if (size == 1) store<u8>(p, <u8>v);
  else store<u16>(p, <u16>v);
}

@inline export function isRegRM(e: usize): bool { return load<u16>(e, D_RM) != RM_MEM; }

@inline export function readE(e: usize, size: i32): u64 {
  const rm = load<u16>(e, D_RM);
  if (rm != RM_MEM) return readReg(rm, size);
  return readMem(ea(e), size);
}
@inline export function writeE(e: usize, size: i32, v: u64): void {
  const rm = load<u16>(e, D_RM);
  if (rm != RM_MEM) writeReg(rm, size, v);
  else writeMem(ea(e), size, v);
}
@inline export function readG(e: usize, size: i32): u64 { return readReg(load<u16>(e, D_REG), size); }
@inline export function writeG(e: usize, size: i32, v: u64): void { writeReg(load<u16>(e, D_REG), size, v); }

