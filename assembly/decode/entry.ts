// The decoded-instruction entry (DENTRY = 64 bytes, assembly/layout.ts): what the decoder leaves
// for the interpreter so it never looks at raw bytes twice -- an operation id (assembly/ops.ts)
// plus pre-resolved operands (register byte offsets, the effective-address recipe of SDM Vol. 2A
// 2.1.5, immediates) and the legacy prefixes that still matter at execution time.

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
export const D_ENDS = 50;    // u8 1 = the operation ends a decoded block (its ENDS_BLOCK attribute, ops.ts)
export const D_COST = 52;    // u32 virtual cycles charged when it retires (the cost model)

export const RM_MEM: u16 = 0xffff;
export const B_NONE: u8 = 16;
export const B_RIP: u8 = 17;
export const B_ABS: u8 = 18;

// D_PFX bits: the legacy prefixes the interpreter reads (REP for strings, LOCK, REX for byte registers).
export const P_REP: u8 = 1;
export const P_REPNE: u8 = 2;
export const P_LOCK: u8 = 4;
export const P_REX: u8 = 8;
export const P_OSZ16: u8 = 16;

/** Sets the entry's operation and operand size. */
@inline export function setOp(e: usize, op: i32, osz: i32): void {
  store<u16>(e, <u16>op, D_OP);
  store<u8>(e, <u8>osz, D_OSZ);
}
