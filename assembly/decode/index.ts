// The instruction decoder (SDM Vol. 2A ch. 2 "Instruction Format", 64-bit mode only): prefixes
// (prefix.ts), then the opcode maps -- one-byte (map1.ts), 0F (map0f.ts), 0F 38 (map0f38.ts),
// 0F 3A (map0f3a.ts), x87 D8-DF (x87.ts) -- with ModRM/SIB (modrm.ts), into one decoded entry
// (entry.ts) whose operation is a row of assembly/ops.ts. Shaped after Bochs's
// cpu/decoder/fetchdecode64.cc and fetchdecode_opmap*.h. Other CPU files import this folder as
// "./decode": it re-exports the entry layout, the operation ids and the decoder's entry points.
import { stop } from "../fault";
import { fetchStart, dpos, dtoolong } from "./fetch";
import { readPrefixes, rex, pfx, seg, asz, lockOk } from "./prefix";
import { isMem } from "./modrm";
import { map1 } from "./map1";
import { setOp, D_OP, D_RM, D_BASE, D_INDEX, D_SEG, D_ASZ, D_PFX, D_LEN, D_ENDS, RM_MEM, B_NONE, P_OSZ16, P_LOCK } from "./entry";
import { OP_UD, OP_TOOLONG, opEndsBlock } from "../ops";

export * from "./entry";
export * from "../ops";
export { regOff } from "./modrm";
export { decodeFromScratch } from "./fetch";

/**
 * Decodes the instruction at linear address `la` into entry `e`. A fetch fault
 * sets `stop`; an invalid or unsupported encoding decodes as OP_UD (#UD when
 * executed); more than 15 bytes decodes as a #GP(0) instruction.
 */
export function decode(e: usize, la: u64): void {
  fetchStart(la); isMem = false;
  memory.fill(e + 12, 0, 52);
  store<u16>(e, RM_MEM, D_RM);
  store<u8>(e, B_NONE, D_BASE);
  store<u8>(e, B_NONE, D_INDEX);
  const b = readPrefixes();
  if (stop) return;
  const osz: i32 = (rex & 8) != 0 ? 8 : (pfx & P_OSZ16) != 0 ? 2 : 4;
  const osz64: i32 = (pfx & P_OSZ16) != 0 && (rex & 8) == 0 ? 2 : 8; // default-64 operations
  store<u8>(e, <u8>seg, D_SEG);
  store<u8>(e, <u8>asz, D_ASZ);
  if (!dtoolong) map1(e, b, osz, osz64);
  if (stop) return;
  let len = dpos;
  if (dtoolong) { setOp(e, OP_TOOLONG, 0); len = 15; }
  else if ((pfx & P_LOCK) != 0 && (!lockOk || !isMem)) setOp(e, OP_UD, 0);
  store<u8>(e, <u8>pfx, D_PFX);
  store<u8>(e, <u8>len, D_LEN);
  // The run loop reads the attribute from the entry: decoding happens once per block, lookups are cheap here.
  store<u8>(e, opEndsBlock(<i32>load<u16>(e, D_OP)) ? 1 : 0, D_ENDS);
}
