// The x87 escape opcodes D8-DF (SDM Vol. 2D A.5, Tables: ModRM selects the operation,
// mod == 3 a register form). No x87 operation is implemented yet: D8-DF decode as OP_UD before
// the ModRM byte is fetched, exactly as the decoder always has.
import { setOp } from "./entry";
import { OP_UD } from "../ops";

/** Decodes the x87 instruction whose escape byte is `b` (D8-DF). */
export function x87(e: usize, b: u32): void {
  setOp(e, OP_UD, 0);
}
