// The three-byte opcode map 0F 38 xx (SDM Vol. 2D Table A-4): entries select their operation by
// the mandatory prefix (none/66/F3/F2), as in Bochs's cpu/decoder/fetchdecode_opmap_0f38.h.
// Implemented: MOVBE (0F 38 F0/F1 without F2/F3; 66 is its operand size; F2 would be CRC32) and
// INVEPT/INVVPID (66 0F 38 80/81, which exit in VMX non-root). Every other entry decodes as OP_UD
// after its opcode byte, with no ModRM read.
import { nb } from "./fetch";
import { pfx, bySimd } from "./prefix";
import { modrm, isMem } from "./modrm";
import { setOp, D_IMM, D_IMM2, P_OSZ16 } from "./entry";
import { OP_UD, OP_MOVBE, OP_VMX } from "../ops";

/** Decodes the operation after 0F 38. */
export function map0f38(e: usize, osz: i32): void {
  const c = nb();
  switch (c) {
    case 0xf0: case 0xf1: // MOVBE Gv, Mv / MOVBE Mv, Gv (D_IMM2 = 1 stores); F2: CRC32, not implemented
      if (bySimd(OP_MOVBE, OP_MOVBE, OP_UD, OP_UD) == OP_MOVBE) {
        modrm(e, osz, osz);
        store<u8>(e, <u8>(c & 1), D_IMM2);
        setOp(e, isMem ? OP_MOVBE : OP_UD, osz); return;
      }
      break;
    case 0x80: case 0x81: // INVEPT / INVVPID: exit reason 50 / 53. A 66 selects them even beside F2/F3.
      if ((pfx & P_OSZ16) != 0) {
        modrm(e, 8, 8); store<u64>(e, c == 0x80 ? 50 : 53, D_IMM); setOp(e, isMem ? OP_VMX : OP_UD, 0); return;
      }
      break;
  }
  setOp(e, OP_UD, 0);
}
