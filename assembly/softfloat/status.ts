// What every floating-point operation reads and reports, shared by SSE (MXCSR) and the x87 (FCW/FSW),
// whose encodings agree (SDM Vol. 1 4.8.3, 8.1.5, 10.2.3): the rounding control and the six
// exception flags an operation raises, after Bochs's softfloat3e `softfloat_status_t`.
// The caller sets the mode, clears sfFlags, runs the operation, then merges sfFlags into its
// status register and decides whether an unmasked exception faults.

// Exception flags, in MXCSR / FSW bit order.
export const SF_INVALID: u32 = 1;     // IE
export const SF_DENORMAL: u32 = 2;    // DE (operand is denormal)
export const SF_DIVBYZERO: u32 = 4;   // ZE
export const SF_OVERFLOW: u32 = 8;    // OE
export const SF_UNDERFLOW: u32 = 16;  // UE
export const SF_INEXACT: u32 = 32;    // PE

// Rounding control (MXCSR.RC, FCW.RC).
export const SF_RN: u32 = 0;   // to nearest, ties to even
export const SF_RD: u32 = 1;   // toward -infinity
export const SF_RU: u32 = 2;   // toward +infinity
export const SF_RZ: u32 = 3;   // toward zero

/** Rounding mode for the next operation. */
export let sfRound: u32 = SF_RN;
/** Exceptions raised since the caller last cleared it. */
export let sfFlags: u32 = 0;
/** MXCSR.FTZ: tiny results flush to zero (SSE only). */
export let sfFtz: bool = false;
/** MXCSR.DAZ: denormal operands read as zero (SSE only). */
export let sfDaz: bool = false;

export function sfSetMode(round: u32, ftz: bool, daz: bool): void { sfRound = round; sfFtz = ftz; sfDaz = daz; sfFlags = 0; }
@inline export function sfRaise(flags: u32): void { sfFlags |= flags; }
export function sfClear(): void { sfFlags = 0; }
/** Changes the rounding mode alone (keeps the flags). */
export function sfSetRound(round: u32): void { sfRound = round; }
