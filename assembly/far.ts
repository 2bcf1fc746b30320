// Far control transfers in 64-bit mode (SDM Vol. 2A RET (far), JMP/CALL ptr16:64 through memory,
// Vol. 3A 5.8 privilege checks): OP_RETF, OP_JMPF, OP_CALLF. Decoded in assembly/decode/map1.ts
// (CA/CB, FF /3 and /5). Not implemented yet.
import { raiseUD } from "./fault";

/** Executes RETF, far JMP or far CALL. */
export function execFar(e: usize, op: i32, size: i32): void {
  raiseUD();
}
