// The MMX registers as the x87 unit keeps them (SDM Vol. 1 9.5 "Compatibility with x87 FPU
// Architecture", Table 9-1 "Effects of MMX, x87 FPU, and FXSAVE/FXRSTOR Instructions on x87 FPU Tag
// Word"): MMi is the low 64 bits (significand) of physical register Ri; every MMX instruction but
// EMMS sets TOP = 0 and all tags valid; a write to MMi sets Ri's exponent field (bits 64-79) to all
// ones; EMMS sets all tags empty. The MMX unit (assembly/sse/int/) goes only through these
// functions, so the x87 unit's choice of register order stays its own: FXSTATE holds physical
// register Ri at FX_ST + 16*i (x87/stack.ts; fxsave.ts rotates to the ST-relative image), the
// abridged tags (bit i = Ri) at FX_FTW, TOP in FSW bits 11-13.
import { FXSTATE, FX_ST, FX_FSW, FX_FTW } from "../layout";

/** Wasm address of MMi (8 bytes); valid after mmxEnter. */
@inline export function mmxAddr(i: u32): usize { return FXSTATE + FX_ST + (<usize>(i & 7) << 4); }

/** The x87 side effect of every MMX instruction except EMMS: TOP = 0, all tags valid. */
@inline export function mmxEnter(): void {
  store<u16>(FXSTATE + FX_FSW, load<u16>(FXSTATE + FX_FSW) & ~<u16>0x3800);
  store<u8>(FXSTATE + FX_FTW, 0xff);
}

/** After writing MMi: its exponent field reads all ones (SDM Vol. 1 9.5.1). */
@inline export function mmxWrote(i: u32): void { store<u16>(mmxAddr(i), 0xffff, 8); }

/** EMMS: all tags empty (SDM Vol. 2A EMMS). */
@inline export function mmxEmms(): void { store<u8>(FXSTATE + FX_FTW, 0); }
