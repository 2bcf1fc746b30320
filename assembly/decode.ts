// The instruction decoder (SDM Vol. 2A ch. 2, "Instruction Format", 64-bit
// mode only). It turns the bytes at a linear address into one decoded entry
// of the instruction cache: an operation id plus pre-resolved operands
// (register byte offsets, the effective-address recipe, immediates), so the
// interpreter never looks at raw bytes twice.
import { SCRATCH } from "./layout";
import { fetchByte } from "./mmu";
import { stop, raise } from "./fault";

// Decoded-entry layout (DENTRY = 64 bytes)
export const D_TAG = 0;      // u64 linear RIP
export const D_GEN = 8;      // u32 cache generation | privilege
export const D_OP = 12;      // u16 operation
export const D_LEN = 14;     // u8 length in bytes
export const D_OSZ = 15;     // u8 operand size in bytes
export const D_REG = 16;     // u16 byte offset of the ModRM.reg register in REGS
export const D_RM = 18;      // u16 byte offset of the ModRM.rm register, or RM_MEM
export const D_BASE = 20;    // u8 base register, B_NONE, B_RIP or B_ABS
export const D_INDEX = 21;   // u8 index register or B_NONE
export const D_SCALE = 22;   // u8 log2 scale
export const D_SEG = 23;     // u8 segment override: 0 none, 4 FS, 5 GS
export const D_DISP = 24;    // i32 displacement
export const D_PFX = 28;     // u8 P_* prefix bits
export const D_SUB = 29;     // u8 ModRM.reg digit / condition code / variant
export const D_ASZ = 30;     // u8 address size in bytes (8 or 4)
export const D_RMNUM = 31;   // u8 ModRM.rm register number (with REX.B)
export const D_IMM = 32;     // u64 immediate
export const D_IMM2 = 40;    // u64 second immediate / absolute address
export const D_REGNUM = 48;  // u8 ModRM.reg register number (with REX.R)
export const D_SSDEF = 49;   // u8 1 = default segment is SS (RSP/RBP base)
export const D_COST = 52;    // u32 virtual cycles charged when it retires (the cost model)

export const RM_MEM: u16 = 0xffff;
export const B_NONE: u8 = 16;
export const B_RIP: u8 = 17;
export const B_ABS: u8 = 18;

export const P_REP: u8 = 1;
export const P_REPNE: u8 = 2;
export const P_LOCK: u8 = 4;
export const P_REX: u8 = 8;
export const P_OSZ16: u8 = 16;

// Operations
export const OP_UD = 0;
export const OP_ALU_EG = 1; export const OP_ALU_GE = 2; export const OP_ALU_EI = 3;
export const OP_TEST_EG = 4; export const OP_TEST_EI = 5;
export const OP_MOV_EG = 6; export const OP_MOV_GE = 7; export const OP_MOV_EI = 8;
export const OP_LEA = 9; export const OP_MOVZX = 10; export const OP_MOVSX = 11;
export const OP_XCHG = 12; export const OP_BSWAP = 13;
export const OP_INC = 14; export const OP_DEC = 15; export const OP_NEG = 16; export const OP_NOT = 17;
export const OP_SHIFT = 18; export const OP_SHLD = 19; export const OP_SHRD = 20;
export const OP_MULDIV = 21; export const OP_IMUL_GE = 22; export const OP_IMUL_GEI = 23;
export const OP_CONV_A = 24; export const OP_CONV_D = 25;
export const OP_BT_EG = 26; export const OP_BT_EI = 27;
export const OP_BSF = 28; export const OP_BSR = 29; export const OP_POPCNT = 30;
export const OP_LZCNT = 31; export const OP_TZCNT = 32;
export const OP_SETCC = 33; export const OP_CMOVCC = 34; export const OP_JCC = 35;
export const OP_JMP = 36; export const OP_CALL = 37; export const OP_RET = 38;
export const OP_JMP_E = 39; export const OP_CALL_E = 40;
export const OP_PUSH_R = 41; export const OP_POP_R = 42; export const OP_PUSH_E = 43;
export const OP_POP_E = 44; export const OP_PUSH_I = 45; export const OP_PUSHF = 46;
export const OP_POPF = 47; export const OP_LAHF = 48; export const OP_SAHF = 49;
export const OP_CLC = 50; export const OP_STC = 51; export const OP_CMC = 52;
export const OP_CLD = 53; export const OP_STD = 54;
export const OP_XADD = 55; export const OP_CMPXCHG = 56; export const OP_CMPXCHGB = 57;
export const OP_MOVS = 58; export const OP_CMPS = 59; export const OP_STOS = 60;
export const OP_LODS = 61; export const OP_SCAS = 62;
export const OP_LEAVE = 63; export const OP_NOP = 64; export const OP_PAUSE = 65;
export const OP_LOOP = 68; export const OP_MOVBE = 69;
export const OP_CPUID = 71; export const OP_RDTSC = 72; export const OP_RDTSCP = 73;
export const OP_RDMSR = 74; export const OP_WRMSR = 75; export const OP_HLT = 76;
export const OP_CLI = 77; export const OP_STI = 78; export const OP_IN = 79; export const OP_OUT = 80;
export const OP_INT = 81; export const OP_INT3 = 82; export const OP_IRET = 83;
export const OP_SYSCALL = 84; export const OP_SYSRET = 85; export const OP_SWAPGS = 86;
export const OP_MOV_R_CR = 87; export const OP_MOV_CR_R = 88;
export const OP_MOV_R_DR = 89; export const OP_MOV_DR_R = 90;
export const OP_LGDT = 91; export const OP_LIDT = 92; export const OP_SGDT = 93; export const OP_SIDT = 94;
export const OP_LTR = 95; export const OP_LLDT = 96; export const OP_STR = 97; export const OP_SLDT = 98;
export const OP_INVLPG = 99; export const OP_VMCALL = 100; export const OP_VMFUNC = 101;
export const OP_VMX = 102; export const OP_MOV_SREG_E = 103; export const OP_MOV_E_SREG = 104;
export const OP_CLTS = 105; export const OP_WBINVD = 106; export const OP_XGETBV = 107;
export const OP_XSETBV = 108; export const OP_SMSW = 109; export const OP_LMSW = 110;
export const OP_PUSH_SREG = 111; export const OP_POP_SREG = 112; export const OP_UD2 = 113;
export const OP_INVD = 114;
export const OP_TOOLONG = 66; // more than 15 bytes: #GP(0)
export const OP_XLAT = 67; export const OP_ENTER = 70;
export const OP_INS = 115; export const OP_OUTS = 116;

// Decoder state for the instruction being decoded.
let dla: u64 = 0;
let dpos: i32 = 0;
let dtoolong: bool = false;
export let decodeFromScratch: bool = false;
let rex: u32 = 0;
let lockOk: bool = false;
let isMem: bool = false;

@inline function nb(): u32 {
  if (dpos >= 15) { dtoolong = true; dpos++; return 0; }
  let b: u32;
  if (decodeFromScratch) b = <u32>load<u8>(SCRATCH + <usize>dpos);
  else b = fetchByte(dla + <u64>dpos);
  dpos++;
  return b;
}
function imm8s(): u64 { return <u64><i64><i8><u8>nb(); }
function imm16(): u64 { const a = nb(); const b = nb(); return <u64>(a | (b << 8)); }
function imm32(): u32 { const a = nb(); const b = nb(); const c = nb(); const d = nb(); return a | (b << 8) | (c << 16) | (d << 24); }
function imm32s(): u64 { return <u64><i64><i32>imm32(); }
function imm64(): u64 { const lo = <u64>imm32(); const hi = <u64>imm32(); return lo | (hi << 32); }
/** Iz: 16 or 32 bits, sign-extended to 64 for 64-bit operand size. */
function immZ(osz: i32): u64 { return osz == 2 ? imm16() : imm32s(); }

/** Byte offset in the register file of register n at the given size. */
@inline export function regOff(n: u32, size: i32): u16 {
  // Without REX, byte registers 4..7 are AH, CH, DH, BH (byte 1 of regs 0..3).
  if (size == 1 && rex == 0 && n >= 4 && n < 8) return <u16>(((n - 4) << 3) + 1);
  return <u16>(n << 3);
}

/** ModRM (+ SIB + displacement). Returns the reg digit. */
function modrm(e: usize, regSize: i32, rmSize: i32): u32 {
  const m = nb();
  const mod = m >> 6;
  const digit = (m >> 3) & 7;
  const reg = digit | ((rex & 4) << 1);
  let rm = m & 7;
  store<u8>(e, <u8>digit, D_SUB);
  store<u8>(e, <u8>reg, D_REGNUM);
  store<u16>(e, regOff(reg, regSize), D_REG);
  if (mod == 3) {
    rm |= (rex & 1) << 3;
    store<u8>(e, <u8>rm, D_RMNUM);
    store<u16>(e, regOff(rm, rmSize), D_RM);
    isMem = false;
    return digit;
  }
  isMem = true;
  store<u16>(e, RM_MEM, D_RM);
  let base: u32 = B_NONE, index: u32 = B_NONE, scale: u32 = 0;
  let disp: i32 = 0;
  if (rm == 4) {
    const sib = nb();
    scale = sib >> 6;
    index = ((sib >> 3) & 7) | ((rex & 2) << 2);
    if (index == 4) index = B_NONE;
    const b = sib & 7;
    if (b == 5 && mod == 0) { base = B_NONE; disp = <i32>imm32(); }
    else base = b | ((rex & 1) << 3);
  } else if (rm == 5 && mod == 0) {
    base = B_RIP; disp = <i32>imm32();
  } else {
    base = rm | ((rex & 1) << 3);
  }
  if (mod == 1) disp = <i32><i8><u8>nb();
  else if (mod == 2) disp = <i32>imm32();
  store<u8>(e, <u8>base, D_BASE);
  store<u8>(e, <u8>index, D_INDEX);
  store<u8>(e, <u8>scale, D_SCALE);
  store<i32>(e, disp, D_DISP);
  store<u8>(e, (base == 4 || base == 5) ? 1 : 0, D_SSDEF);
  return digit;
}

/** A register operand encoded in the low opcode bits (PUSH r, MOV r, imm, BSWAP, XCHG rAX). */
function opReg(e: usize, b: u32, size: i32): void {
  const n = (b & 7) | ((rex & 1) << 3);
  store<u8>(e, <u8>n, D_RMNUM);
  store<u16>(e, regOff(n, size), D_RM);
}

@inline function setOp(e: usize, op: i32, osz: i32): void {
  store<u16>(e, <u16>op, D_OP);
  store<u8>(e, <u8>osz, D_OSZ);
}

/**
 * Decodes the instruction at linear address `la` into entry `e`. A fetch fault
 * sets `stop`; an invalid or unsupported encoding decodes as OP_UD (#UD when
 * executed); more than 15 bytes decodes as a #GP(0) instruction.
 */
export function decode(e: usize, la: u64): void {
  dla = la; dpos = 0; dtoolong = false; rex = 0; lockOk = false; isMem = false;
  memory.fill(e + 12, 0, 52);
  store<u16>(e, RM_MEM, D_RM);
  store<u8>(e, B_NONE, D_BASE);
  store<u8>(e, B_NONE, D_INDEX);
  let pfx: u32 = 0, seg: u32 = 0, asz: i32 = 8;
  let b: u32 = 0;
  while (true) {
    b = nb();
    if (stop) return;
    if (dtoolong) break;
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
  const osz: i32 = (rex & 8) != 0 ? 8 : (pfx & P_OSZ16) != 0 ? 2 : 4;
  const osz64: i32 = (pfx & P_OSZ16) != 0 && (rex & 8) == 0 ? 2 : 8; // default-64 operations
  store<u8>(e, <u8>seg, D_SEG);
  store<u8>(e, <u8>asz, D_ASZ);
  if (!dtoolong) decodeOpcode(e, b, osz, osz64, pfx);
  if (stop) return;
  if (dtoolong) { setOp(e, OP_TOOLONG, 0); dpos = 15; }
  else if ((pfx & P_LOCK) != 0 && (!lockOk || !isMem)) setOp(e, OP_UD, 0);
  store<u8>(e, <u8>pfx, D_PFX);
  store<u8>(e, <u8>dpos, D_LEN);
}

function decodeOpcode(e: usize, b: u32, osz: i32, osz64: i32, pfx: u32): void {
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
    case 0x0f: decode0F(e, osz, osz64, pfx); return;
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
      else setOp(e, (pfx & P_REP) != 0 ? OP_PAUSE : OP_NOP, osz);
      return;
    case 0x98: setOp(e, OP_CONV_A, osz); return;
    case 0x99: setOp(e, OP_CONV_D, osz); return;
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
    case 0xc8: store<u64>(e, imm16(), D_IMM); store<u64>(e, <u64>nb(), D_IMM2); setOp(e, OP_ENTER, osz64); return;
    case 0xd7: setOp(e, OP_XLAT, 1); return;
    case 0x6c: setOp(e, OP_INS, 1); return;
    case 0x6d: setOp(e, OP_INS, osz == 2 ? 2 : 4); return;
    case 0x6e: setOp(e, OP_OUTS, 1); return;
    case 0x6f: setOp(e, OP_OUTS, osz == 2 ? 2 : 4); return;
    case 0xcc: setOp(e, OP_INT3, 8); return;
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
      const d = isMemNextDigit();
      const size = (d == 2 || d == 4) ? 8 : d == 6 ? osz64 : osz; // near branches ignore 66 (Intel)
      modrm(e, size, size);
      switch (d) {
        case 0: setOp(e, OP_INC, osz); lockOk = true; return;
        case 1: setOp(e, OP_DEC, osz); lockOk = true; return;
        case 2: setOp(e, OP_CALL_E, 8); return;
        case 4: setOp(e, OP_JMP_E, 8); return;
        case 6: setOp(e, OP_PUSH_E, osz64); return;
      }
      setOp(e, OP_UD, osz); return;
    }
  }
  setOp(e, OP_UD, 0);
}

/** Peeks whether the next ModRM byte selects memory (mod != 3), without consuming it. */
function isMemNext(): bool {
  const save = dpos; const m = nb(); dpos = save;
  return (m >> 6) != 3;
}
function isMemNextDigit(): u32 {
  const save = dpos; const m = nb(); dpos = save;
  return (m >> 3) & 7;
}

function decode0F(e: usize, osz: i32, osz64: i32, pfx: u32): void {
  const b = nb();
  if (b >= 0x40 && b <= 0x4f) { modrm(e, osz, osz); store<u8>(e, <u8>(b & 15), D_SUB); setOp(e, OP_CMOVCC, osz); return; }
  if (b >= 0x80 && b <= 0x8f) { store<u8>(e, <u8>(b & 15), D_SUB); store<u64>(e, imm32s(), D_IMM); setOp(e, OP_JCC, 8); return; }
  if (b >= 0x90 && b <= 0x9f) { modrm(e, 1, 1); store<u8>(e, <u8>(b & 15), D_SUB); setOp(e, OP_SETCC, 1); return; }
  if (b >= 0xc8 && b <= 0xcf) { opReg(e, b, osz); setOp(e, OP_BSWAP, osz); return; }
  if (b >= 0x19 && b <= 0x1f) { modrm(e, osz, osz); setOp(e, OP_NOP, osz); return; } // hint NOPs
  switch (b) {
    case 0x00: {
      const d = modrm(e, 2, 2);
      setOp(e, d == 0 ? OP_SLDT : d == 1 ? OP_STR : d == 2 ? OP_LLDT : d == 3 ? OP_LTR : OP_UD, isMem ? 2 : osz);
      return;
    }
    case 0x01: {
      const save = dpos; const m = nb(); dpos = save;
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
    case 0x38: {
      const c = nb();
      if ((c == 0xf0 || c == 0xf1) && (pfx & (P_REP | P_REPNE)) == 0) {
        const size = c == 0xf0 ? osz : osz;
        modrm(e, size, size);
        store<u8>(e, <u8>(c & 1), D_IMM2);
        setOp(e, isMem ? OP_MOVBE : OP_UD, size); return;
      }
      if ((c == 0x80 || c == 0x81) && (pfx & P_OSZ16) != 0) { // INVEPT / INVVPID: exit 50 / 53
        modrm(e, 8, 8); store<u64>(e, c == 0x80 ? 50 : 53, D_IMM); setOp(e, isMem ? OP_VMX : OP_UD, 0); return;
      }
      setOp(e, OP_UD, 0); return;
    }
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
      const save = dpos; const m = nb(); dpos = save;
      const d = (m >> 3) & 7;
      modrm(e, osz, osz);
      if (!isMem && d >= 5) { setOp(e, OP_NOP, 0); return; }  // LFENCE, MFENCE, SFENCE
      if (isMem && d == 7 && (pfx & (P_OSZ16 | P_REP | P_REPNE)) == 0) { setOp(e, OP_NOP, 0); return; } // CLFLUSH
      setOp(e, OP_UD, 0); return;
    }
    case 0xaf: modrm(e, osz, osz); setOp(e, OP_IMUL_GE, osz); return;
    case 0xb0: modrm(e, 1, 1); setOp(e, OP_CMPXCHG, 1); lockOk = true; return;
    case 0xb1: modrm(e, osz, osz); setOp(e, OP_CMPXCHG, osz); lockOk = true; return;
    case 0xb6: modrm(e, osz, 1); store<u8>(e, 1, D_SUB); setOp(e, OP_MOVZX, osz); return;
    case 0xb7: modrm(e, osz, 2); store<u8>(e, 2, D_SUB); setOp(e, OP_MOVZX, osz); return;
    case 0xbe: modrm(e, osz, 1); store<u8>(e, 1, D_SUB); setOp(e, OP_MOVSX, osz); return;
    case 0xbf: modrm(e, osz, 2); store<u8>(e, 2, D_SUB); setOp(e, OP_MOVSX, osz); return;
    case 0xb8: modrm(e, osz, osz); setOp(e, (pfx & P_REP) != 0 ? OP_POPCNT : OP_UD, osz); return;
    case 0xbc: modrm(e, osz, osz); setOp(e, (pfx & P_REP) != 0 ? OP_TZCNT : OP_BSF, osz); return;
    case 0xbd: modrm(e, osz, osz); setOp(e, (pfx & P_REP) != 0 ? OP_LZCNT : OP_BSR, osz); return;
    case 0xc0: modrm(e, 1, 1); setOp(e, OP_XADD, 1); lockOk = true; return;
    case 0xc1: modrm(e, osz, osz); setOp(e, OP_XADD, osz); lockOk = true; return;
    case 0xc7: {
      const d = modrm(e, osz, osz);
      if (d == 1 && isMem) { setOp(e, OP_CMPXCHGB, osz == 8 ? 16 : 8); lockOk = true; return; }
      // VMPTRLD / VMCLEAR (66) / VMXON (F3) and VMPTRST: memory operands only; they exit in VMX non-root.
      if (isMem && d == 6) { store<u64>(e, (pfx & P_REP) != 0 ? 27 : (pfx & P_OSZ16) != 0 ? 19 : 21, D_IMM); setOp(e, OP_VMX, 0); return; }
      if (isMem && d == 7 && (pfx & (P_REP | P_OSZ16)) == 0) { store<u64>(e, 22, D_IMM); setOp(e, OP_VMX, 0); return; }
      setOp(e, OP_UD, 0); return;
    }
    case 0x78: case 0x79: // VMREAD / VMWRITE: exit 23 / 25 in VMX non-root (no VMCS shadowing here)
      if ((pfx & (P_OSZ16 | P_REP | P_REPNE)) != 0) { modrm(e, 8, 8); setOp(e, OP_UD, 0); return; }
      modrm(e, 8, 8); store<u64>(e, b == 0x78 ? 23 : 25, D_IMM); setOp(e, OP_VMX, 0); return;
  }
  setOp(e, OP_UD, 0);
}
