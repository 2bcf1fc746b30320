// The x87/SSE state as an FXSAVE image (SDM Vol. 1 10.5.1, Table 10-2; Vol. 2A FXSAVE/FXRSTOR): the one
// place that converts between the live register state in FXSTATE (assembly/layout.ts) and the standard
// 512-byte image -- ST0-ST7 in stack-relative order, the abridged tag byte at +4, TOP in FSW bits 11-13.
// The FXSAVE/FXRSTOR instructions and the host (`vmfunc-vmi exec`, through index.ts fxStateSave /
// fxStateLoad) go only through fxsaveImage / fxrstorImage.
// The live state is the image but for the register order: FX_ST + 16*i holds physical register Ri
// (x87/stack.ts), the image ST(i) = R((TOP + i) mod 8); the abridged tag byte is per physical
// register in both (SDM Vol. 1 Table 10-2).
import { FXSTATE } from "../layout";
/** FCS and FDS live at FXSTATE + 464 (x87/stack.ts FX_FCS, FX_FDS), past the image's used bytes. */
const FX_X87_SEL: usize = 464;
import { FX_ST, FX_FCW, FX_FSW, FX_FTW, FX_FOP, FX_FIP, FX_FDP, FX_MXCSR, FX_MXCSR_MASK, FX_IMAGE_USED, FCW_DEFAULT, MXCSR_DEFAULT, MXCSR_MASK } from "../shared/fxsave";

/** Writes the standard image of the live state to Wasm memory [dst, dst+416) (bytes FXSAVE writes). */
export function fxsaveImage(dst: usize): void {
  memory.copy(dst, FXSTATE, FX_IMAGE_USED);
  store<u32>(dst + FX_MXCSR_MASK, MXCSR_MASK);
  const top = (<u32>load<u16>(FXSTATE + FX_FSW) >> 11) & 7;
  for (let i: u32 = 0; i < 8; i++) {
    const src = FXSTATE + FX_ST + (<usize>((top + i) & 7) << 4), d = dst + FX_ST + (<usize>i << 4);
    store<u64>(d, load<u64>(src)); store<u64>(d, load<u64>(src, 8), 8);
  }
}

/**
 * Loads the live state from a standard image at Wasm address `src` (FXRSTOR; the caller has checked
 * the MXCSR reserved bits). FOP keeps bits 0-10; the MXCSR_MASK field of the image is ignored.
 */
export function fxrstorImage(src: usize): void {
  memory.copy(FXSTATE, src, FX_IMAGE_USED);
  store<u16>(FXSTATE + FX_FOP, load<u16>(FXSTATE + FX_FOP) & 0x7ff);
  const top = (<u32>load<u16>(src + FX_FSW) >> 11) & 7;
  for (let i: u32 = 0; i < 8; i++) {
    const s = src + FX_ST + (<usize>i << 4), d = FXSTATE + FX_ST + (<usize>((top + i) & 7) << 4);
    store<u64>(d, load<u64>(s)); store<u64>(d, load<u64>(s, 8), 8);
  }
  store<u32>(FXSTATE + FX_MXCSR_MASK, MXCSR_MASK);
  store<u32>(FXSTATE + FX_X87_SEL, 0); // FCS, FDS: not in the 64-bit image
}

/** Power-on state (SDM Vol. 3A 10.1.1 / 9.1.2, Table 9-1): FCW 0x40, empty stack, MXCSR 0x1f80, XMM 0. */
export function fxPowerOn(): void {
  memory.fill(FXSTATE, 0, FX_IMAGE_USED);
  store<u32>(FXSTATE + FX_X87_SEL, 0);
  store<u16>(FXSTATE + FX_FCW, 0x40);
  store<u32>(FXSTATE + FX_MXCSR, MXCSR_DEFAULT);
  store<u32>(FXSTATE + FX_MXCSR_MASK, MXCSR_MASK);
}

/** FNINIT's effect on the x87 part (SDM Vol. 2A FINIT/FNINIT): FCW 0x37f, FSW 0, all tags empty, pointers 0. */
export function fxFninit(): void {
  store<u16>(FXSTATE + FX_FCW, <u16>FCW_DEFAULT);
  store<u16>(FXSTATE + FX_FSW, 0);
  store<u16>(FXSTATE + FX_FTW, 0);
  store<u16>(FXSTATE + FX_FOP, 0);
  store<u64>(FXSTATE + FX_FIP, 0);
  store<u64>(FXSTATE + FX_FDP, 0);
  store<u32>(FXSTATE + FX_X87_SEL, 0);
}
