// The x87 register stack and status word (SDM Vol. 1 8.1 "x87 FPU Execution Environment": 8.1.2
// the data registers and TOP, 8.1.3 the status word, 8.1.7 the tag word; 8.5 exception conditions,
// 8.5.1.1 stack overflow/underflow; 8.6-8.7 delayed exception handling).
// FXSTATE (assembly/layout.ts) holds the live state: physical register Ri (80 bits) at
// FX_ST + 16*i, the abridged tag byte at FX_FTW (bit i = 1: Ri not empty, as FXSAVE stores it; the
// full tag -- valid, zero, special -- is derived from the contents when FNSTENV/FNSAVE need it),
// TOP in FSW bits 11-13. ST(i) is physical R((TOP + i) mod 8). fxsave.ts rotates to the image.
import { FXSTATE, FX_FCW, FX_FSW, FX_FTW, FX_ST } from "../layout";
import { sfSetMode, sfFlags, SF_INVALID, SF_DENORMAL, SF_DIVBYZERO, SF_OVERFLOW, SF_UNDERFLOW, SF_INEXACT } from "../softfloat/status";
import { setF80Wrap, f80Up, QNAN_SE, QNAN_SIG } from "../softfloat/f80";
import { WRAP_UNDER, WRAP_OVER } from "../softfloat/round";

// FSW bits (SDM Vol. 1 Figure 8-4)
export const FSW_IE: u32 = 1; export const FSW_DE: u32 = 2; export const FSW_ZE: u32 = 4;
export const FSW_OE: u32 = 8; export const FSW_UE: u32 = 16; export const FSW_PE: u32 = 32;
export const FSW_SF: u32 = 0x40; export const FSW_ES: u32 = 0x80;
export const FSW_C0: u32 = 0x100; export const FSW_C1: u32 = 0x200; export const FSW_C2: u32 = 0x400;
export const FSW_C3: u32 = 0x4000; export const FSW_B: u32 = 0x8000;
export const FSW_CC: u32 = FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3;

/** FCS and FDS (the selectors FNSTENV/FNSAVE store) live past the FXSAVE image's used part (bytes
 *  416-511 of FXSTATE, which fxsave.ts never copies). */
export const FX_FCS: usize = 464;
export const FX_FDS: usize = 466;

@inline export function fcw(): u32 { return <u32>load<u16>(FXSTATE + FX_FCW); }
@inline export function fsw(): u32 { return <u32>load<u16>(FXSTATE + FX_FSW); }
@inline export function setFsw(v: u32): void { store<u16>(FXSTATE + FX_FSW, <u16>v); }
@inline export function ftw(): u32 { return <u32>load<u8>(FXSTATE + FX_FTW); }
@inline export function setFtw(v: u32): void { store<u8>(FXSTATE + FX_FTW, <u8>v); }
@inline export function top(): u32 { return (fsw() >> 11) & 7; }
@inline export function setTop(t: u32): void { setFsw((fsw() & ~<u32>0x3800) | ((t & 7) << 11)); }

/** Wasm address of physical register Ri. */
@inline export function physAddr(i: u32): usize { return FXSTATE + FX_ST + (<usize>(i & 7) << 4); }
/** Physical index of ST(i). */
@inline export function stPhys(i: u32): u32 { return (top() + i) & 7; }
@inline export function stAddr(i: u32): usize { return physAddr(stPhys(i)); }
@inline export function stEmpty(i: u32): bool { return ((ftw() >> stPhys(i)) & 1) == 0; }
@inline export function stSe(i: u32): u32 { return <u32>load<u16>(stAddr(i), 8); }
@inline export function stSig(i: u32): u64 { return load<u64>(stAddr(i)); }

/** ST(i) = value, tag not empty. */
export function setSt(i: u32, se: u32, sig: u64): void {
  const p = stPhys(i), a = physAddr(p);
  store<u64>(a, sig); store<u16>(a, <u16>se, 8);
  setFtw(ftw() | (1 << p));
}
/** Marks ST(i) empty. */
export function freeSt(i: u32): void { setFtw(ftw() & ~(<u32>1 << stPhys(i))); }
/** TOP - 1, then ST(0) = value. */
export function push(se: u32, sig: u64): void { setTop(top() - 1); setSt(0, se, sig); }
/** ST(0) empty, TOP + 1. */
export function pop(): void { freeSt(0); setTop(top() + 1); }

/** Sets C3 C2 C1 C0 from a 4-bit value c3c2c1c0. */
export function setCC(c: u32): void {
  setFsw((fsw() & ~FSW_CC) | ((c & 1) << 8) | ((c & 2) << 8) | ((c & 4) << 8) | ((c & 8) << 11));
}
@inline export function setC1(v: bool): void { setFsw(v ? fsw() | FSW_C1 : fsw() & ~FSW_C1); }

/** Precision control (FCW bits 8-9, SDM Vol. 1 8.1.5.2): 24, 53 or 64 bits (01, reserved, acts as 64). */
export function precision(): i32 {
  const pc = (fcw() >> 8) & 3;
  return pc == 0 ? 24 : pc == 2 ? 53 : 64;
}

/** Prepares the softfloat status for one x87 operation: rounding control, no flags, unmasked OE/UE wrap. */
export function fpBegin(): void {
  const c = fcw();
  sfSetMode((c >> 10) & 3, false, false);
  setF80Wrap(((c & FSW_UE) == 0 ? WRAP_UNDER : 0) | ((c & FSW_OE) == 0 ? WRAP_OVER : 0));
}
/** Without the unmasked wrap (stores to memory, where an unmasked OE/UE stores nothing). */
export function fpBeginNoWrap(): void {
  const c = fcw();
  sfSetMode((c >> 10) & 3, false, false);
  setF80Wrap(0);
}

/**
 * Merges the exceptions `flags` into FSW (with ES and B when one is unmasked, SDM Vol. 1 8.1.3.1)
 * and says whether the destination may be written: false when IE, DE or ZE is unmasked (SDM Vol. 1
 * 8.5: the operands are left unchanged and the handler runs at the next waiting instruction).
 */
export function fpFlags(flags: u32): bool {
  // an unmasked invalid-operand, denormal or divide-by-zero exception stops the operation before it
  // computes: the post-computation flags (OE, UE, PE) are not reported
  if ((flags & ~fcw() & (FSW_IE | FSW_DE | FSW_ZE)) != 0) flags &= FSW_IE | FSW_DE | FSW_ZE | FSW_SF;
  let s = fsw() | (flags & 0x7f);
  if ((flags & ~fcw() & 0x3f) != 0) s |= FSW_ES | FSW_B;
  setFsw(s);
  return (flags & ~fcw() & (FSW_IE | FSW_DE | FSW_ZE)) == 0;
}
/** Like fpFlags for an operation whose result goes to memory: unmasked OE/UE stop the store too (SDM Vol. 1 8.5.4, 8.5.5). */
export function fpFlagsMem(flags: u32): bool {
  if ((flags & ~fcw() & (FSW_OE | FSW_UE)) != 0) flags &= ~FSW_PE; // nothing is stored: no inexact result
  fpFlags(flags);
  return (flags & ~fcw() & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE)) == 0;
}
/** C1 after a rounded result: set when the magnitude was rounded up (SDM Vol. 1 8.1.3.1). */
export function fpRoundedC1(flags: u32): void { setC1((flags & SF_INEXACT) != 0 && f80Up); }

/** IE masked? */
@inline export function ieMasked(): bool { return (fcw() & FSW_IE) != 0; }

/** Stack underflow (SDM Vol. 1 8.5.1.1): IE + SF, C1 = 0; returns whether IE is masked (then the caller writes the QNaN indefinite). */
export function stackUnderflow(): bool {
  fpFlags(FSW_IE | FSW_SF); setC1(false);
  return ieMasked();
}
/** Stack overflow: IE + SF, C1 = 1; when IE is masked the QNaN indefinite is pushed. */
export function stackOverflowPush(): void {
  fpFlags(FSW_IE | FSW_SF); setC1(true);
  if (ieMasked()) push(QNAN_SE, QNAN_SIG);
}

export { sfFlags, SF_INVALID, SF_DENORMAL, SF_DIVBYZERO, SF_OVERFLOW, SF_UNDERFLOW, SF_INEXACT, QNAN_SE, QNAN_SIG };
