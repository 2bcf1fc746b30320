// The one-byte opcode map (SDM Vol. 2D Table A-2) in 64-bit mode: each case is the map entry for
// one opcode byte (or a row of them), saying how its operands are encoded and which operation
// (assembly/ops.ts) it is. 0F escapes to map0f.ts, D8-DF to x87.ts; opcodes invalid in 64-bit
// mode (06, 07, 0E, 16, 17, 1E, 1F, 27, 2F, 37, 3F, 60-62, 82, 9A, C4, C5, D4-D6, EA) and the
// ones not implemented decode as OP_UD.
import { nb, imm8s, imm16, imm32, imm32s, imm64, immZ } from "./fetch";
import { rex, lockOk, bySimd } from "./prefix";
import { modrm, opReg, isMem, isMemNext, digitNext } from "./modrm";
import { setOp, D_SUB, D_RM, D_REG, D_IMM, D_IMM2, D_ASZ, D_BASE, B_ABS } from "./entry";
import { map0f } from "./map0f";
import { x87, fwait } from "./x87";
import {
  OP_UD, OP_ALU_EG, OP_ALU_GE, OP_ALU_EI, OP_TEST_EG, OP_TEST_EI, OP_MOV_EG, OP_MOV_GE, OP_MOV_EI, OP_LEA,
  OP_MOVSX, OP_XCHG, OP_INC, OP_DEC, OP_NEG, OP_NOT, OP_SHIFT, OP_MULDIV, OP_IMUL_GEI, OP_CONV_A, OP_CONV_D,
  OP_JCC, OP_JMP, OP_CALL, OP_RET, OP_JMP_E, OP_CALL_E, OP_PUSH_R, OP_POP_R, OP_PUSH_E, OP_POP_E, OP_PUSH_I,
  OP_PUSHF, OP_POPF, OP_LAHF, OP_SAHF, OP_CLC, OP_STC, OP_CMC, OP_CLD, OP_STD, OP_MOVS, OP_CMPS, OP_STOS,
  OP_LODS, OP_SCAS, OP_LEAVE, OP_NOP, OP_PAUSE, OP_XLAT, OP_LOOP, OP_ENTER, OP_HLT, OP_CLI, OP_STI, OP_IN,
  OP_OUT, OP_INT, OP_INT3, OP_IRET, OP_MOV_SREG_E, OP_MOV_E_SREG, OP_INS, OP_OUTS, OP_RETF, OP_JMPF, OP_CALLF,
} from "../ops";
import { OP_INT1 } from "../ops";

/** Decodes the operation whose first opcode byte is `b` (prefixes already read). */
export function map1(e: usize, b: u32, osz: i32, osz64: i32): void {
  if (b < 0x40 && (b & 7) < 6) {
    // ADD OR ADC SBB AND SUB XOR CMP in their six forms
    const kind = b >> 3;
    store<u8>(e, <u8>kind, D_SUB);
    switch (b & 7) {
      case 0: modrm(e, 1, 1); store<u8>(e, <u8>kind, D_SUB); setOp(e, OP_ALU_EG, 1); lockOk = kind != 7; return;
      case 1: modrm(e, osz, osz); store<u8>(e, <u8>kind, D_SUB); setOp(e, OP_ALU_EG, osz); lockOk = kind != 7; return;
      case 2: modrm(e, 1, 1); store<u8>(e, <u8>kind, D_SUB); setOp(e, OP_ALU_GE, 1); return;
      case 3: modrm(e, osz, osz); store<u8>(e, <u8>kind, D_SUB); setOp(e, OP_ALU_GE, osz); return;
      case 4: store<u16>(e, 0, D_RM); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_ALU_EI, 1); return;
      default: store<u16>(e, 0, D_RM); store<u64>(e, immZ(osz), D_IMM); setOp(e, OP_ALU_EI, osz); return;
    }
  }
  if (b >= 0x50 && b <= 0x57) { opReg(e, b, osz64); setOp(e, OP_PUSH_R, osz64); return; }
  if (b >= 0x58 && b <= 0x5f) { opReg(e, b, osz64); setOp(e, OP_POP_R, osz64); return; }
  if (b >= 0x70 && b <= 0x7f) { store<u8>(e, <u8>(b & 15), D_SUB); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_JCC, 8); return; }
  if (b >= 0x91 && b <= 0x97) { opReg(e, b, osz); store<u16>(e, 0, D_REG); setOp(e, OP_XCHG, osz); return; }
  if (b >= 0xb0 && b <= 0xb7) { opReg(e, b, 1); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_MOV_EI, 1); return; }
  if (b >= 0xb8 && b <= 0xbf) {
    opReg(e, b, osz);
    store<u64>(e, osz == 8 ? imm64() : osz == 4 ? <u64>imm32() : imm16(), D_IMM);
    setOp(e, OP_MOV_EI, osz); return;
  }
  switch (b) {
    case 0x0f: map0f(e, osz, osz64); return;
    case 0xd8: case 0xd9: case 0xda: case 0xdb: case 0xdc: case 0xdd: case 0xde: case 0xdf: x87(e, b); return;
    case 0x63: modrm(e, osz, osz == 8 ? 4 : osz); store<u8>(e, <u8>(osz == 8 ? 4 : osz), D_SUB); setOp(e, OP_MOVSX, osz); return;
    case 0x68: store<u64>(e, immZ(osz64), D_IMM); setOp(e, OP_PUSH_I, osz64); return;
    case 0x6a: store<u64>(e, imm8s(), D_IMM); setOp(e, OP_PUSH_I, osz64); return;
    case 0x69: modrm(e, osz, osz); store<u64>(e, immZ(osz), D_IMM); setOp(e, OP_IMUL_GEI, osz); return;
    case 0x6b: modrm(e, osz, osz); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_IMUL_GEI, osz); return;
    case 0x80: modrm(e, 1, 1); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_ALU_EI, 1); lockOk = load<u8>(e, D_SUB) != 7; return;
    case 0x81: modrm(e, osz, osz); store<u64>(e, immZ(osz), D_IMM); setOp(e, OP_ALU_EI, osz); lockOk = load<u8>(e, D_SUB) != 7; return;
    case 0x83: modrm(e, osz, osz); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_ALU_EI, osz); lockOk = load<u8>(e, D_SUB) != 7; return;
    case 0x84: modrm(e, 1, 1); setOp(e, OP_TEST_EG, 1); return;
    case 0x85: modrm(e, osz, osz); setOp(e, OP_TEST_EG, osz); return;
    case 0x86: modrm(e, 1, 1); setOp(e, OP_XCHG, 1); lockOk = true; return;
    case 0x87: modrm(e, osz, osz); setOp(e, OP_XCHG, osz); lockOk = true; return;
    case 0x88: modrm(e, 1, 1); setOp(e, OP_MOV_EG, 1); return;
    case 0x89: modrm(e, osz, osz); setOp(e, OP_MOV_EG, osz); return;
    case 0x8a: modrm(e, 1, 1); setOp(e, OP_MOV_GE, 1); return;
    case 0x8b: modrm(e, osz, osz); setOp(e, OP_MOV_GE, osz); return;
    case 0x8c: { modrm(e, 2, isMemNext() ? 2 : osz); const r = load<u8>(e, D_SUB); setOp(e, r < 6 ? OP_MOV_E_SREG : OP_UD, isMem ? 2 : osz); return; }
    case 0x8d: modrm(e, osz, osz); setOp(e, isMem ? OP_LEA : OP_UD, osz); return;
    case 0x8e: { modrm(e, 2, 2); const r = load<u8>(e, D_SUB); setOp(e, r < 6 && r != 1 ? OP_MOV_SREG_E : OP_UD, 2); return; }
    case 0x8f: { const d = modrm(e, osz64, osz64); setOp(e, d == 0 ? OP_POP_E : OP_UD, osz64); return; }
    case 0x90:
      if ((rex & 1) != 0) { opReg(e, b, osz); store<u16>(e, 0, D_REG); setOp(e, OP_XCHG, osz); }
      else setOp(e, bySimd(OP_NOP, OP_NOP, OP_PAUSE, OP_NOP), osz); // F3 90 is PAUSE
      return;
    case 0x98: setOp(e, OP_CONV_A, osz); return;
    case 0x99: setOp(e, OP_CONV_D, osz); return;
    case 0x9b: fwait(e); return;
    case 0x9c: setOp(e, OP_PUSHF, osz64); return;
    case 0x9d: setOp(e, OP_POPF, osz64); return;
    case 0x9e: setOp(e, OP_SAHF, 1); return;
    case 0x9f: setOp(e, OP_LAHF, 1); return;
    case 0xa0: case 0xa1: case 0xa2: case 0xa3: {
      const size = (b & 1) != 0 ? osz : 1;
      const addr = load<u8>(e, D_ASZ) == 4 ? <u64>imm32() : imm64();
      store<u8>(e, B_ABS, D_BASE); store<u64>(e, addr, D_IMM2);
      store<u16>(e, 0, D_REG); isMem = true;
      setOp(e, b < 0xa2 ? OP_MOV_GE : OP_MOV_EG, size); return;
    }
    case 0xa4: setOp(e, OP_MOVS, 1); return;
    case 0xa5: setOp(e, OP_MOVS, osz); return;
    case 0xa6: setOp(e, OP_CMPS, 1); return;
    case 0xa7: setOp(e, OP_CMPS, osz); return;
    case 0xa8: store<u16>(e, 0, D_RM); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_TEST_EI, 1); return;
    case 0xa9: store<u16>(e, 0, D_RM); store<u64>(e, immZ(osz), D_IMM); setOp(e, OP_TEST_EI, osz); return;
    case 0xaa: setOp(e, OP_STOS, 1); return;
    case 0xab: setOp(e, OP_STOS, osz); return;
    case 0xac: setOp(e, OP_LODS, 1); return;
    case 0xad: setOp(e, OP_LODS, osz); return;
    case 0xae: setOp(e, OP_SCAS, 1); return;
    case 0xaf: setOp(e, OP_SCAS, osz); return;
    case 0xc0: modrm(e, 1, 1); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_SHIFT, 1); return;
    case 0xc1: modrm(e, osz, osz); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_SHIFT, osz); return;
    case 0xd0: modrm(e, 1, 1); store<u64>(e, 1, D_IMM); setOp(e, OP_SHIFT, 1); return;
    case 0xd1: modrm(e, osz, osz); store<u64>(e, 1, D_IMM); setOp(e, OP_SHIFT, osz); return;
    case 0xd2: modrm(e, 1, 1); store<u64>(e, 1, D_IMM2); setOp(e, OP_SHIFT, 1); return;
    case 0xd3: modrm(e, osz, osz); store<u64>(e, 1, D_IMM2); setOp(e, OP_SHIFT, osz); return;
    case 0xc2: store<u64>(e, imm16(), D_IMM); setOp(e, OP_RET, osz64); return;
    case 0xc3: setOp(e, OP_RET, osz64); return;
    case 0xc6: { const d = modrm(e, 1, 1); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, d == 0 ? OP_MOV_EI : OP_UD, 1); return; }
    case 0xc7: { const d = modrm(e, osz, osz); store<u64>(e, immZ(osz), D_IMM); setOp(e, d == 0 ? OP_MOV_EI : OP_UD, osz); return; }
    case 0xc9: setOp(e, OP_LEAVE, osz64); return;
    // RETF imm16 / RETF: operand size 32 by default in 64-bit mode, REX.W 64 (LRETQ), 66 16 (far.ts).
    case 0xca: store<u64>(e, imm16(), D_IMM); setOp(e, OP_RETF, osz); return;
    case 0xcb: store<u64>(e, 0, D_IMM); setOp(e, OP_RETF, osz); return;
    case 0xc8: store<u64>(e, imm16(), D_IMM); store<u64>(e, <u64>nb(), D_IMM2); setOp(e, OP_ENTER, osz64); return;
    case 0xd7: setOp(e, OP_XLAT, 1); return;
    case 0x6c: setOp(e, OP_INS, 1); return;
    case 0x6d: setOp(e, OP_INS, osz == 2 ? 2 : 4); return;
    case 0x6e: setOp(e, OP_OUTS, 1); return;
    case 0x6f: setOp(e, OP_OUTS, osz == 2 ? 2 : 4); return;
    case 0xcc: setOp(e, OP_INT3, 8); return;
    case 0xf1: setOp(e, OP_INT1, 0); return; // INT1 / ICEBP: #DB as a privileged software exception
    case 0xcd: store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_INT, 8); return;
    case 0xcf: setOp(e, osz == 2 ? OP_UD : OP_IRET, osz); return;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3:
      store<u8>(e, <u8>(b & 3), D_SUB); store<u64>(e, imm8s(), D_IMM); setOp(e, OP_LOOP, 8); return;
    case 0xe4: case 0xe5: case 0xe6: case 0xe7: {
      store<u64>(e, imm8s() & 0xff, D_IMM);
      setOp(e, b < 0xe6 ? OP_IN : OP_OUT, (b & 1) != 0 ? (osz == 2 ? 2 : 4) : 1); return;
    }
    case 0xec: case 0xed: case 0xee: case 0xef:
      store<u8>(e, 1, D_SUB); // port in DX
      setOp(e, b < 0xee ? OP_IN : OP_OUT, (b & 1) != 0 ? (osz == 2 ? 2 : 4) : 1); return;
    case 0xe8: store<u64>(e, imm32s(), D_IMM); setOp(e, OP_CALL, 8); return;
    case 0xe9: store<u64>(e, imm32s(), D_IMM); setOp(e, OP_JMP, 8); return;
    case 0xeb: store<u64>(e, imm8s(), D_IMM); setOp(e, OP_JMP, 8); return;
    case 0xf4: setOp(e, OP_HLT, 0); return;
    case 0xf5: setOp(e, OP_CMC, 0); return;
    case 0xf6: case 0xf7: {
      const size = b == 0xf6 ? 1 : osz;
      const d = modrm(e, size, size);
      if (d < 2) { store<u64>(e, size == 1 ? imm8s() : immZ(size), D_IMM); setOp(e, OP_TEST_EI, size); }
      else if (d == 2) { setOp(e, OP_NOT, size); lockOk = true; }
      else if (d == 3) { setOp(e, OP_NEG, size); lockOk = true; }
      else setOp(e, OP_MULDIV, size);
      return;
    }
    case 0xf8: setOp(e, OP_CLC, 0); return;
    case 0xf9: setOp(e, OP_STC, 0); return;
    case 0xfa: setOp(e, OP_CLI, 0); return;
    case 0xfb: setOp(e, OP_STI, 0); return;
    case 0xfc: setOp(e, OP_CLD, 0); return;
    case 0xfd: setOp(e, OP_STD, 0); return;
    case 0xfe: {
      const d = modrm(e, 1, 1);
      setOp(e, d == 0 ? OP_INC : d == 1 ? OP_DEC : OP_UD, 1); lockOk = true; return;
    }
    case 0xff: {
      const d = digitNext();
      const size = (d == 2 || d == 4) ? 8 : d == 6 ? osz64 : osz; // near branches ignore 66 (Intel)
      modrm(e, size, size);
      switch (d) {
        case 0: setOp(e, OP_INC, osz); lockOk = true; return;
        case 1: setOp(e, OP_DEC, osz); lockOk = true; return;
        case 2: setOp(e, OP_CALL_E, 8); return;
        case 4: setOp(e, OP_JMP_E, 8); return;
        case 6: setOp(e, OP_PUSH_E, osz64); return;
        // CALL/JMP m16:16, m16:32, m16:64 (REX.W, Intel): memory operands only (far.ts).
        case 3: setOp(e, isMem ? OP_CALLF : OP_UD, osz); return;
        case 5: setOp(e, isMem ? OP_JMPF : OP_UD, osz); return;
      }
      setOp(e, OP_UD, osz); return;
    }
  }
  setOp(e, OP_UD, 0);
}
