// Memory operands of x87 instructions (SDM Vol. 1 8.1.8 "x87 FPU Instruction and Data (Operand)
// Pointers"; Vol. 2A 2.1.5): the effective address of the entry, and stores wider than 8 bytes (m80,
// the FNSTENV/FNSAVE images) that check every page they touch before writing any byte, so a fault
// leaves memory and the FPU unchanged ("the CPU never unwinds", assembly/fault.ts).
import { readMem, writeMem, translate, ACC_WRITE } from "../mmu";
import { mmioEmulating } from "../mmio";
import { stop } from "../fault";
import { cpl } from "../state";

/** Checks that [la, la+len) is writable (len <= 4096); false after a fault. */
export function probeWrite(la: u64, len: u32): bool {
  if (mmioEmulating) return true;
  const user = cpl == 3;
  translate(la, ACC_WRITE, user, true); if (stop) return false;
  if ((la >> 12) != ((la + <u64>len - 1) >> 12)) { translate(la + <u64>len - 1, ACC_WRITE, user, true); if (stop) return false; }
  return true;
}

/** Reads an m80 operand: significand returned, sign/exponent in m80Se (check `stop`). */
export let m80Se: u32 = 0;
export function readM80(la: u64): u64 {
  const sig = readMem(la, 8); if (stop) return 0;
  m80Se = <u32>readMem(la + 8, 2);
  return sig;
}

/** Writes an m80 operand, both pages checked first. */
export function writeM80(la: u64, se: u32, sig: u64): void {
  if (!probeWrite(la, 10)) return;
  writeMem(la, 8, sig); if (stop) return;
  writeMem(la + 8, 2, <u64>se);
}
