// Legacy prefixes and REX in 64-bit mode (SDM Vol. 2A 2.1.1, 2.2.1): operand size (66), address
// size (67), LOCK, REP/REPNE, segment overrides (only FS/GS mean anything in 64-bit mode), and a
// REX prefix that counts only when it comes last. The same bytes 66/F3/F2 also act as mandatory
// prefixes that select an operation in the 0F, 0F38 and 0F3A maps (SDM 2.1.2 and Vol. 2D A.2.5):
// `simdPrefix` gives that choice, as Bochs's decoder keeps its SSE prefix beside the opcode.
import { nb, dtoolong } from "./fetch";
import { stop } from "../fault";
import { P_REP, P_REPNE, P_LOCK, P_REX, P_OSZ16 } from "./entry";

/** The REX byte (0 when none), for register numbers and byte registers. */
export let rex: u32 = 0;
/** P_* bits of the prefixes seen. */
export let pfx: u32 = 0;
/** Segment override: 0 none, 4 FS, 5 GS. */
export let seg: u32 = 0;
/** Address size in bytes (8, or 4 with 67). */
export let asz: i32 = 8;
/** The map entry allows LOCK (checked against a memory operand when decoding ends). */
export let lockOk: bool = false;

// The mandatory prefix a map entry selects by: the last of F2/F3, else 66, else none.
export const MP_NONE: u32 = 0;
export const MP_66: u32 = 1;
export const MP_F3: u32 = 2;
export const MP_F2: u32 = 3;
export function simdPrefix(): u32 {
  if ((pfx & P_REP) != 0) return MP_F3;
  if ((pfx & P_REPNE) != 0) return MP_F2;
  return (pfx & P_OSZ16) != 0 ? MP_66 : MP_NONE;
}
/** A map entry's operation by mandatory prefix, one column each for none/66/F3/F2 (a row of Bochs's opmaps). */
export function bySimd(none: i32, p66: i32, pF3: i32, pF2: i32): i32 {
  const mp = simdPrefix();
  return mp == MP_NONE ? none : mp == MP_66 ? p66 : mp == MP_F3 ? pF3 : pF2;
}

/** Reads the prefixes and returns the first opcode byte (check `stop` and `dtoolong` after). */
export function readPrefixes(): u32 {
  rex = 0; pfx = 0; seg = 0; asz = 8; lockOk = false;
  let b: u32 = 0;
  while (true) {
    b = nb();
    if (stop || dtoolong) break;
    if (b == 0x66) { pfx |= P_OSZ16; rex = 0; continue; }
    if (b == 0x67) { asz = 4; rex = 0; continue; }
    if (b == 0xf0) { pfx |= P_LOCK; rex = 0; continue; }
    if (b == 0xf2) { pfx = (pfx & ~P_REP) | P_REPNE; rex = 0; continue; }
    if (b == 0xf3) { pfx = (pfx & ~P_REPNE) | P_REP; rex = 0; continue; }
    if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e) { rex = 0; continue; } // null in 64-bit mode
    if (b == 0x64) { seg = 4; rex = 0; continue; }
    if (b == 0x65) { seg = 5; rex = 0; continue; }
    if ((b & 0xf0) == 0x40) { rex = b; continue; }
    break;
  }
  if (rex != 0) pfx |= P_REX;
  return b;
}
