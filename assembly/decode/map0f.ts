// The two-byte opcode map, 0F xx (SDM Vol. 2D Table A-3) in 64-bit mode: system instructions,
// Jcc rel32, SETcc, CMOVcc, the bit instructions, MOVZX/MOVSX and the VMX instructions. An entry
// picks its operation by the mandatory prefix where the SDM defines one (F3 0F B8 POPCNT, F3 0F BC
// TZCNT, ...). 0F 38 and 0F 3A escape to map0f38.ts and map0f3a.ts; the SSE rows of this map are
// are sse-float.ts and sse-int.ts.
import { nb, peek, imm8s, imm32s } from "./fetch";
import { rex, pfx, lockOk, simdPrefix, bySimd, MP_NONE } from "./prefix";
import { modrm, opReg, isMem, digitNext } from "./modrm";
import { setOp, D_SUB, D_RM, D_RMNUM, D_IMM, D_IMM2, P_REP, P_OSZ16 } from "./entry";
import { map0f38 } from "./map0f38";
import { map0f3a } from "./map0f3a";
import { mapSseFloat } from "./sse-float";
import { mapSseInt } from "./sse-int";
import {
  OP_UD, OP_CMOVCC, OP_JCC, OP_SETCC, OP_BSWAP, OP_NOP, OP_SLDT, OP_STR, OP_LLDT, OP_LTR, OP_SMSW, OP_LMSW,
  OP_VMCALL, OP_VMX, OP_XGETBV, OP_XSETBV, OP_VMFUNC, OP_SWAPGS, OP_RDTSCP, OP_SGDT, OP_SIDT, OP_LGDT, OP_LIDT,
  OP_INVLPG, OP_SYSCALL, OP_CLTS, OP_SYSRET, OP_INVD, OP_WBINVD, OP_UD2, OP_MOV_R_CR, OP_MOV_CR_R, OP_MOV_R_DR,
  OP_MOV_DR_R, OP_WRMSR, OP_RDTSC, OP_RDMSR, OP_PUSH_SREG, OP_POP_SREG, OP_CPUID, OP_BT_EG, OP_BT_EI, OP_SHLD,
  OP_SHRD, OP_IMUL_GE, OP_CMPXCHG, OP_MOVZX, OP_MOVSX, OP_POPCNT, OP_TZCNT, OP_BSF, OP_LZCNT, OP_BSR, OP_XADD,
  OP_CMPXCHGB, OP_FXSAVE, OP_FXRSTOR, OP_LDMXCSR, OP_STMXCSR, OP_CLFLUSH,
} from "../ops";
import { OP_VERRW, OP_LAR, OP_LSL, OP_RDPMC, OP_SYSENTER, OP_SYSEXIT } from "../ops";

/** Decodes the operation after the 0F escape. */
export function map0f(e: usize, osz: i32, osz64: i32): void {
  const b = nb();
  if (b >= 0x40 && b <= 0x4f) { modrm(e, osz, osz); store<u8>(e, <u8>(b & 15), D_SUB); setOp(e, OP_CMOVCC, osz); return; }
  if (b >= 0x80 && b <= 0x8f) { store<u8>(e, <u8>(b & 15), D_SUB); store<u64>(e, imm32s(), D_IMM); setOp(e, OP_JCC, 8); return; }
  if (b >= 0x90 && b <= 0x9f) { modrm(e, 1, 1); store<u8>(e, <u8>(b & 15), D_SUB); setOp(e, OP_SETCC, 1); return; }
  if (b >= 0xc8 && b <= 0xcf) { opReg(e, b, osz); setOp(e, OP_BSWAP, osz); return; }
  if (b >= 0x19 && b <= 0x1f) { modrm(e, osz, osz); setOp(e, OP_NOP, osz); return; } // hint NOPs
  // The SSE/SSE2 and MMX rows: floating point (sse-float.ts), packed integer and MMX (sse-int.ts).
  if ((b >= 0x10 && b <= 0x17) || (b >= 0x28 && b <= 0x2f) || (b >= 0x50 && b <= 0x5f) || b == 0xc2 || b == 0xc6 || b == 0xe6) {
    mapSseFloat(e, b); return;
  }
  if ((b >= 0x60 && b <= 0x7f && b != 0x78 && b != 0x79) || (b >= 0xc3 && b <= 0xc5) || b >= 0xd0) { mapSseInt(e, b); return; }
  switch (b) {
    case 0x00: {
      const d = modrm(e, 2, 2);
      // /4 VERR, /5 VERW: a 16-bit selector from a register or memory (descriptor-check.ts); /6 /7 #UD.
      if (d == 4 || d == 5) { setOp(e, OP_VERRW, 2); return; }
      setOp(e, d == 0 ? OP_SLDT : d == 1 ? OP_STR : d == 2 ? OP_LLDT : d == 3 ? OP_LTR : OP_UD, isMem ? 2 : osz);
      return;
    }
    // LAR / LSL Gv, Ew: the selector is 16 bits of a register or memory (descriptor-check.ts).
    case 0x02: modrm(e, osz, 2); setOp(e, OP_LAR, osz); return;
    case 0x03: modrm(e, osz, 2); setOp(e, OP_LSL, osz); return;
    case 0x01: {
      const m = peek();
      if ((m >> 6) == 3) {
        const d = (m >> 3) & 7;
        if (d == 4) { modrm(e, osz, osz); setOp(e, OP_SMSW, osz); return; }
        if (d == 6) { modrm(e, 2, 2); setOp(e, OP_LMSW, 2); return; }
        nb();
        switch (m) {
          case 0xc1: setOp(e, OP_VMCALL, 0); return;
          case 0xc2: store<u64>(e, 20, D_IMM); setOp(e, OP_VMX, 0); return; // VMLAUNCH
          case 0xc3: store<u64>(e, 24, D_IMM); setOp(e, OP_VMX, 0); return; // VMRESUME
          case 0xc4: store<u64>(e, 26, D_IMM); setOp(e, OP_VMX, 0); return; // VMXOFF
          case 0xd0: setOp(e, OP_XGETBV, 0); return;
          case 0xd1: setOp(e, OP_XSETBV, 0); return;
          case 0xd4: setOp(e, OP_VMFUNC, 0); return;
          case 0xf8: setOp(e, OP_SWAPGS, 0); return;
          case 0xf9: setOp(e, OP_RDTSCP, 0); return;
        }
        setOp(e, OP_UD, 0); return;
      }
      const d = modrm(e, 2, 2);
      switch (d) {
        case 0: setOp(e, OP_SGDT, 0); return;
        case 1: setOp(e, OP_SIDT, 0); return;
        case 2: setOp(e, OP_LGDT, 0); return;
        case 3: setOp(e, OP_LIDT, 0); return;
        case 4: setOp(e, OP_SMSW, 2); return;
        case 6: setOp(e, OP_LMSW, 2); return;
        case 7: setOp(e, OP_INVLPG, 0); return;
      }
      setOp(e, OP_UD, 0); return;
    }
    case 0x05: setOp(e, OP_SYSCALL, 0); return;
    case 0x06: setOp(e, OP_CLTS, 0); return;
    case 0x07: setOp(e, OP_SYSRET, osz); return;
    case 0x08: setOp(e, OP_INVD, 0); return;
    case 0x09: setOp(e, OP_WBINVD, 0); return;
    case 0x0b: setOp(e, OP_UD2, 0); return;
    case 0x0d: modrm(e, osz, osz); setOp(e, isMem ? OP_NOP : OP_UD, 0); return;
    case 0x18: modrm(e, osz, osz); setOp(e, OP_NOP, 0); return;
    case 0x20: case 0x21: case 0x22: case 0x23: {
      // MOV to/from control and debug registers: mod is ignored, always registers.
      const m = nb();
      const reg = ((m >> 3) & 7) | ((rex & 4) << 1);
      const rm = (m & 7) | ((rex & 1) << 3);
      store<u8>(e, <u8>reg, D_SUB);
      store<u8>(e, <u8>rm, D_RMNUM);
      store<u16>(e, <u16>(rm << 3), D_RM);
      const ops: i32 = b == 0x20 ? OP_MOV_R_CR : b == 0x22 ? OP_MOV_CR_R : b == 0x21 ? OP_MOV_R_DR : OP_MOV_DR_R;
      setOp(e, ops, 8); return;
    }
    case 0x30: setOp(e, OP_WRMSR, 0); return;
    case 0x31: setOp(e, OP_RDTSC, 0); return;
    case 0x32: setOp(e, OP_RDMSR, 0); return;
    case 0x33: setOp(e, OP_RDPMC, 0); return;
    // SYSENTER; SYSEXIT returns to 64-bit mode with REX.W, else to compatibility mode (sysenter.ts).
    case 0x34: setOp(e, OP_SYSENTER, 0); return;
    case 0x35: setOp(e, OP_SYSEXIT, osz == 8 ? 8 : 4); return;
    case 0x38: map0f38(e, osz); return;
    case 0x3a: map0f3a(e); return;
    case 0xa0: store<u8>(e, 4, D_SUB); setOp(e, OP_PUSH_SREG, osz64); return;
    case 0xa1: store<u8>(e, 4, D_SUB); setOp(e, OP_POP_SREG, osz64); return;
    case 0xa8: store<u8>(e, 5, D_SUB); setOp(e, OP_PUSH_SREG, osz64); return;
    case 0xa9: store<u8>(e, 5, D_SUB); setOp(e, OP_POP_SREG, osz64); return;
    case 0xa2: setOp(e, OP_CPUID, 0); return;
    case 0xa3: modrm(e, osz, osz); store<u8>(e, 0, D_IMM2); setOp(e, OP_BT_EG, osz); return;
    case 0xab: modrm(e, osz, osz); store<u8>(e, 1, D_IMM2); setOp(e, OP_BT_EG, osz); lockOk = true; return;
    case 0xb3: modrm(e, osz, osz); store<u8>(e, 2, D_IMM2); setOp(e, OP_BT_EG, osz); lockOk = true; return;
    case 0xbb: modrm(e, osz, osz); store<u8>(e, 3, D_IMM2); setOp(e, OP_BT_EG, osz); lockOk = true; return;
    case 0xba: {
      const d = modrm(e, osz, osz);
      store<u64>(e, imm8s() & 0xff, D_IMM);
      store<u8>(e, <u8>(d & 3), D_IMM2);
      setOp(e, d >= 4 ? OP_BT_EI : OP_UD, osz); lockOk = d > 4; return;
    }
    case 0xa4: modrm(e, osz, osz); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_SHLD, osz); return;
    case 0xa5: modrm(e, osz, osz); store<u64>(e, 1, D_IMM2); setOp(e, OP_SHLD, osz); return;
    case 0xac: modrm(e, osz, osz); store<u64>(e, imm8s() & 0xff, D_IMM); setOp(e, OP_SHRD, osz); return;
    case 0xad: modrm(e, osz, osz); store<u64>(e, 1, D_IMM2); setOp(e, OP_SHRD, osz); return;
    case 0xae: {
      // Group 15 (SDM Vol. 2D Table A-6, 0F AE). Memory forms without a mandatory prefix: /0 FXSAVE
      // (REX.W: FXSAVE64), /1 FXRSTOR(64), /2 LDMXCSR, /3 STMXCSR, /7 CLFLUSH (sse/state-ops.ts).
      // /4 XSAVE, /5 XRSTOR, /6 XSAVEOPT need CPUID.01H:ECX.XSAVE[26], which src/cpuid.ts does not
      // report: #UD. With 66 (CLFLUSHOPT, CLWB) or F3 (PTWRITE) the memory forms name features not
      // reported either (CPUID.07H:EBX bits 23, 24; leaf 14H): #UD. Register forms: /5 /6 /7 without
      // prefix are LFENCE, MFENCE, SFENCE -- one vCPU retires in order, so they order nothing more
      // than a NOP; F3 /0-/3 are RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE, #UD without
      // CPUID.07H:EBX.FSGSBASE[0] (not reported).
      const mp = simdPrefix();
      const d = modrm(e, 4, 4);
      if (!isMem) { setOp(e, mp == MP_NONE && d >= 5 ? OP_NOP : OP_UD, 0); return; }
      if (mp != MP_NONE) { setOp(e, OP_UD, 0); return; }
      switch (d) {
        case 0: setOp(e, OP_FXSAVE, (rex & 8) != 0 ? 8 : 4); return;
        case 1: setOp(e, OP_FXRSTOR, (rex & 8) != 0 ? 8 : 4); return;
        case 2: setOp(e, OP_LDMXCSR, 4); return;
        case 3: setOp(e, OP_STMXCSR, 4); return;
        case 7: setOp(e, OP_CLFLUSH, 1); return;
      }
      setOp(e, OP_UD, 0); return;
    }
    case 0xaf: modrm(e, osz, osz); setOp(e, OP_IMUL_GE, osz); return;
    case 0xb0: modrm(e, 1, 1); setOp(e, OP_CMPXCHG, 1); lockOk = true; return;
    case 0xb1: modrm(e, osz, osz); setOp(e, OP_CMPXCHG, osz); lockOk = true; return;
    case 0xb6: modrm(e, osz, 1); store<u8>(e, 1, D_SUB); setOp(e, OP_MOVZX, osz); return;
    case 0xb7: modrm(e, osz, 2); store<u8>(e, 2, D_SUB); setOp(e, OP_MOVZX, osz); return;
    case 0xbe: modrm(e, osz, 1); store<u8>(e, 1, D_SUB); setOp(e, OP_MOVSX, osz); return;
    case 0xbf: modrm(e, osz, 2); store<u8>(e, 2, D_SUB); setOp(e, OP_MOVSX, osz); return;
    case 0xb8: modrm(e, osz, osz); setOp(e, bySimd(OP_UD, OP_UD, OP_POPCNT, OP_UD), osz); return;
    case 0xbc: modrm(e, osz, osz); setOp(e, bySimd(OP_BSF, OP_BSF, OP_TZCNT, OP_BSF), osz); return;
    case 0xbd: modrm(e, osz, osz); setOp(e, bySimd(OP_BSR, OP_BSR, OP_LZCNT, OP_BSR), osz); return;
    case 0xc0: modrm(e, 1, 1); setOp(e, OP_XADD, 1); lockOk = true; return;
    case 0xc1: modrm(e, osz, osz); setOp(e, OP_XADD, osz); lockOk = true; return;
    case 0xc7: {
      const d = modrm(e, osz, osz);
      if (d == 1 && isMem) { setOp(e, OP_CMPXCHGB, osz == 8 ? 16 : 8); lockOk = true; return; }
      // VMPTRLD / VMCLEAR (66) / VMXON (F3) and VMPTRST: memory operands only; they exit in VMX non-root.
      // These read the raw prefix bits (66 counts even beside F2), as the decoder always has.
      if (isMem && d == 6) { store<u64>(e, (pfx & P_REP) != 0 ? 27 : (pfx & P_OSZ16) != 0 ? 19 : 21, D_IMM); setOp(e, OP_VMX, 0); return; }
      if (isMem && d == 7 && (pfx & (P_REP | P_OSZ16)) == 0) { store<u64>(e, 22, D_IMM); setOp(e, OP_VMX, 0); return; }
      setOp(e, OP_UD, 0); return;
    }
    case 0x78: case 0x79: // VMREAD / VMWRITE: exit 23 / 25 in VMX non-root (no VMCS shadowing here)
      if (simdPrefix() != MP_NONE) { modrm(e, 8, 8); setOp(e, OP_UD, 0); return; }
      modrm(e, 8, 8); store<u64>(e, b == 0x78 ? 23 : 25, D_IMM); setOp(e, OP_VMX, 0); return;
  }
  setOp(e, OP_UD, 0);
}
