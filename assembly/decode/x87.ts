// The x87 escape opcodes D8-DF (SDM Vol. 2D A.5 "Escape Opcode Instructions", Tables:
// with mod != 3 the ModRM reg digit selects a memory-operand instruction, with mod == 3 the whole
// ModRM byte selects a register form) and WAIT/FWAIT (9B). The entry keeps the escape byte and the
// full ModRM byte in D_IMM2 (esc | modrm << 8: the x87 opcode FOP is formed from them, SDM Vol. 1
// 8.1.10), the digit in D_SUB, the operand size (2 with 66: the 16-bit FLDENV/FNSTENV/FRSTOR/FNSAVE
// formats) in D_OSZ; assembly/x87/ runs the group. Undefined encodings decode as OP_UD, and so does
// FISTTP (DB /1, DD /1, DF /1: SSE3, which CPUID does not advertise). The register-form aliases
// that Intel and AMD processors execute although Table A-x leaves them blank (D9 D8+i FSTP,
// DC D0+i / DC D8+i FCOM / FCOMP, DD C8+i / DF C8+i FXCH, DE D0+i FCOMP, DF C0+i FFREEP,
// DF D0+i / DF D8+i FSTP) decode as the instruction they alias, as on the hardware.
import { peek } from "./fetch";
import { pfx } from "./prefix";
import { modrm } from "./modrm";
import { setOp, D_IMM2, P_OSZ16 } from "./entry";
import { OP_UD, OP_X87_LOAD, OP_X87_STORE, OP_X87_ARITH, OP_X87_CMP, OP_X87_TRANS, OP_X87_CTRL, OP_X87_ENV, OP_FWAIT } from "../ops";

/** The op group of a memory form: escape byte index 0-7 (D8-DF) and reg digit. */
function memGroup(x: u32, d: u32): i32 {
  switch (x) {
    case 0: case 2: case 4: case 6: return (d == 2 || d == 3) ? OP_X87_CMP : OP_X87_ARITH;
    case 1: // D9: FLD m32, -, FST m32, FSTP m32, FLDENV, FLDCW, FNSTENV, FNSTCW
      if (d == 0) return OP_X87_LOAD;
      if (d == 2 || d == 3) return OP_X87_STORE;
      if (d == 4 || d == 6) return OP_X87_ENV;
      if (d == 5 || d == 7) return OP_X87_CTRL;
      return OP_UD;
    case 3: // DB: FILD m32, FISTTP, FIST m32, FISTP m32, -, FLD m80, -, FSTP m80
      if (d == 0 || d == 5) return OP_X87_LOAD;
      if (d == 2 || d == 3 || d == 7) return OP_X87_STORE;
      return OP_UD;
    case 5: // DD: FLD m64, FISTTP, FST m64, FSTP m64, FRSTOR, -, FNSAVE, FNSTSW m16
      if (d == 0) return OP_X87_LOAD;
      if (d == 2 || d == 3) return OP_X87_STORE;
      if (d == 4 || d == 6) return OP_X87_ENV;
      if (d == 7) return OP_X87_CTRL;
      return OP_UD;
    default: // DF: FILD m16, FISTTP, FIST m16, FISTP m16, FBLD, FILD m64, FBSTP, FISTP m64
      if (d == 0 || d == 4 || d == 5) return OP_X87_LOAD;
      if (d == 1) return OP_UD;
      return OP_X87_STORE;
  }
}

/** The op group of a register form: escape index and ModRM byte (C0-FF). */
function regGroup(x: u32, m: u32): i32 {
  const d = (m >> 3) & 7;
  switch (x) {
    case 0: return (d == 2 || d == 3) ? OP_X87_CMP : OP_X87_ARITH;
    case 1:
      if (d == 0) return OP_X87_LOAD;                  // FLD ST(i)
      if (d == 1) return OP_X87_CTRL;                  // FXCH
      if (d == 2) return m == 0xd0 ? OP_X87_CTRL : OP_UD; // FNOP
      if (d == 3) return OP_X87_STORE;                 // FSTP ST(i) alias
      switch (m) {
        case 0xe0: case 0xe1: case 0xfa: case 0xfc: case 0xfd: case 0xf4: case 0xf5: case 0xf8: return OP_X87_ARITH;
        case 0xe4: case 0xe5: return OP_X87_CMP;       // FTST, FXAM
        case 0xe8: case 0xe9: case 0xea: case 0xeb: case 0xec: case 0xed: case 0xee: return OP_X87_LOAD;
        case 0xf0: case 0xf1: case 0xf2: case 0xf3: case 0xf9: case 0xfb: case 0xfe: case 0xff: return OP_X87_TRANS;
        case 0xf6: case 0xf7: return OP_X87_CTRL;      // FDECSTP, FINCSTP
      }
      return OP_UD;
    case 2: // DA: FCMOVB/E/BE/U, FUCOMPP
      if (d < 4) return OP_X87_CTRL;
      return m == 0xe9 ? OP_X87_CMP : OP_UD;
    case 3: // DB: FCMOVNB/NE/NBE/NU, FNENI FNDISI FNCLEX FNINIT FNSETPM, FUCOMI, FCOMI
      if (d < 4) return OP_X87_CTRL;
      if (d == 4) return (m <= 0xe4) ? OP_X87_CTRL : OP_UD;
      if (d == 5 || d == 6) return OP_X87_CMP;
      return OP_UD;
    case 4: return (d == 2 || d == 3) ? OP_X87_CMP : OP_X87_ARITH; // DC, with the FCOM/FCOMP aliases
    case 5: // DD: FFREE, FXCH alias, FST, FSTP, FUCOM, FUCOMP
      if (d == 0 || d == 1) return OP_X87_CTRL;
      if (d == 2 || d == 3) return OP_X87_STORE;
      if (d == 4 || d == 5) return OP_X87_CMP;
      return OP_UD;
    case 6: // DE: FADDP FMULP, FCOMP alias, FCOMPP, FSUBRP FSUBP FDIVRP FDIVP
      if (d == 2) return OP_X87_CMP;
      if (d == 3) return m == 0xd9 ? OP_X87_CMP : OP_UD;
      return OP_X87_ARITH;
    default: // DF: FFREEP, FXCH alias, FSTP aliases, FNSTSW AX, FUCOMIP, FCOMIP
      if (d == 0 || d == 1) return OP_X87_CTRL;
      if (d == 2 || d == 3) return OP_X87_STORE;
      if (d == 4) return m == 0xe0 ? OP_X87_CTRL : OP_UD;
      if (d == 5 || d == 6) return OP_X87_CMP;
      return OP_UD;
  }
}

/** Decodes the x87 instruction whose escape byte is `b` (D8-DF). */
export function x87(e: usize, b: u32): void {
  const m = peek();
  const x = b & 7;
  modrm(e, 4, 4);
  const op = (m >> 6) == 3 ? regGroup(x, m) : memGroup(x, (m >> 3) & 7);
  store<u64>(e, <u64>(b | (m << 8)), D_IMM2);
  setOp(e, op, (pfx & P_OSZ16) != 0 ? 2 : 4);
}

/** WAIT/FWAIT (9B). */
export function fwait(e: usize): void {
  store<u64>(e, 0x9b, D_IMM2);
  setOp(e, OP_FWAIT, 0);
}
