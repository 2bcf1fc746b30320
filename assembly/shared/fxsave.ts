// The FXSAVE memory image (SDM Vol. 1 10.5.1, Table 10-2 "Format of an FXSAVE Area" in 64-bit mode)
// and the x87/SSE reset values, shared by the CPU (assembly/x87/fxsave.ts, the live FXSTATE region of
// assembly/layout.ts) and the host (`vmfunc-vmi exec` reads and writes the image, src/exec.ts).
// Byte offsets into the 512-byte image:
export const FX_FCW: usize = 0; export const FX_FSW: usize = 2; export const FX_FTW: usize = 4; export const FX_FOP: usize = 6;
export const FX_FIP: usize = 8; export const FX_FDP: usize = 16; export const FX_MXCSR: usize = 24;
export const FX_MXCSR_MASK: usize = 28; export const FX_ST: usize = 32; export const FX_XMM: usize = 160;
/** Bytes FXSAVE writes: the legacy header, ST0-ST7 and XMM0-XMM15 (416..511 are reserved or software's). */
export const FX_IMAGE_USED: usize = 416;
/** The image's size (and alignment: FXSAVE/FXRSTOR need a 16-byte aligned operand). */
export const FX_IMAGE_BYTES: usize = 512;

/** FCW after FNINIT (SDM Vol. 2A FINIT/FNINIT; Vol. 1 8.1.5): all exceptions masked, 64-bit precision, round to nearest. */
export const FCW_DEFAULT: u32 = 0x037f;
/** MXCSR after reset (SDM Vol. 1 10.2.3): all exceptions masked, round to nearest, FTZ and DAZ off. */
export const MXCSR_DEFAULT: u32 = 0x1f80;
/**
 * The MXCSR bits this CPU supports, as FXSAVE stores at +28 (SDM Vol. 1 11.6.6 "Guidelines for Writing
 * to the MXCSR Register"): bits 0-15, DAZ included. Setting any other bit (LDMXCSR, FXRSTOR) is #GP(0).
 */
export const MXCSR_MASK: u32 = 0xffff;
