// The CPU's operations: one row per operation the decoder can produce, with the attributes the
// run loop (and later a JIT) reads -- whether it ends a decoded block, which unit executes it, and
// its cost class -- in the shape of Bochs's cpu/decoder/ia_opcodes.def and v86's gen/x86_table.js.
// An id is a name for a row and nothing more: no code may compare ids by order or mask them.
// Written in the subset both asc and tsc compile (see assembly/shared/limits.ts), so the host
// (src/xen/cost-profiles.ts) reads the same ids the Wasm CPU uses.

// ---- ids (stable numbers; gaps and order carry no meaning) ----------------------------------
export const OP_UD: i32 = 0;
export const OP_ALU_EG: i32 = 1; export const OP_ALU_GE: i32 = 2; export const OP_ALU_EI: i32 = 3;
export const OP_TEST_EG: i32 = 4; export const OP_TEST_EI: i32 = 5;
export const OP_MOV_EG: i32 = 6; export const OP_MOV_GE: i32 = 7; export const OP_MOV_EI: i32 = 8;
export const OP_LEA: i32 = 9; export const OP_MOVZX: i32 = 10; export const OP_MOVSX: i32 = 11;
export const OP_XCHG: i32 = 12; export const OP_BSWAP: i32 = 13;
export const OP_INC: i32 = 14; export const OP_DEC: i32 = 15; export const OP_NEG: i32 = 16; export const OP_NOT: i32 = 17;
export const OP_SHIFT: i32 = 18; export const OP_SHLD: i32 = 19; export const OP_SHRD: i32 = 20;
export const OP_MULDIV: i32 = 21; export const OP_IMUL_GE: i32 = 22; export const OP_IMUL_GEI: i32 = 23;
export const OP_CONV_A: i32 = 24; export const OP_CONV_D: i32 = 25;
export const OP_BT_EG: i32 = 26; export const OP_BT_EI: i32 = 27;
export const OP_BSF: i32 = 28; export const OP_BSR: i32 = 29; export const OP_POPCNT: i32 = 30;
export const OP_LZCNT: i32 = 31; export const OP_TZCNT: i32 = 32;
export const OP_SETCC: i32 = 33; export const OP_CMOVCC: i32 = 34; export const OP_JCC: i32 = 35;
export const OP_JMP: i32 = 36; export const OP_CALL: i32 = 37; export const OP_RET: i32 = 38;
export const OP_JMP_E: i32 = 39; export const OP_CALL_E: i32 = 40;
export const OP_PUSH_R: i32 = 41; export const OP_POP_R: i32 = 42; export const OP_PUSH_E: i32 = 43;
export const OP_POP_E: i32 = 44; export const OP_PUSH_I: i32 = 45; export const OP_PUSHF: i32 = 46;
export const OP_POPF: i32 = 47; export const OP_LAHF: i32 = 48; export const OP_SAHF: i32 = 49;
export const OP_CLC: i32 = 50; export const OP_STC: i32 = 51; export const OP_CMC: i32 = 52;
export const OP_CLD: i32 = 53; export const OP_STD: i32 = 54;
export const OP_XADD: i32 = 55; export const OP_CMPXCHG: i32 = 56; export const OP_CMPXCHGB: i32 = 57;
export const OP_MOVS: i32 = 58; export const OP_CMPS: i32 = 59; export const OP_STOS: i32 = 60;
export const OP_LODS: i32 = 61; export const OP_SCAS: i32 = 62;
export const OP_LEAVE: i32 = 63; export const OP_NOP: i32 = 64; export const OP_PAUSE: i32 = 65;
export const OP_TOOLONG: i32 = 66; export const OP_XLAT: i32 = 67;
export const OP_LOOP: i32 = 68; export const OP_MOVBE: i32 = 69; export const OP_ENTER: i32 = 70;
export const OP_CPUID: i32 = 71; export const OP_RDTSC: i32 = 72; export const OP_RDTSCP: i32 = 73;
export const OP_RDMSR: i32 = 74; export const OP_WRMSR: i32 = 75; export const OP_HLT: i32 = 76;
export const OP_CLI: i32 = 77; export const OP_STI: i32 = 78; export const OP_IN: i32 = 79; export const OP_OUT: i32 = 80;
export const OP_INT: i32 = 81; export const OP_INT3: i32 = 82; export const OP_IRET: i32 = 83;
export const OP_SYSCALL: i32 = 84; export const OP_SYSRET: i32 = 85; export const OP_SWAPGS: i32 = 86;
export const OP_MOV_R_CR: i32 = 87; export const OP_MOV_CR_R: i32 = 88;
export const OP_MOV_R_DR: i32 = 89; export const OP_MOV_DR_R: i32 = 90;
export const OP_LGDT: i32 = 91; export const OP_LIDT: i32 = 92; export const OP_SGDT: i32 = 93; export const OP_SIDT: i32 = 94;
export const OP_LTR: i32 = 95; export const OP_LLDT: i32 = 96; export const OP_STR: i32 = 97; export const OP_SLDT: i32 = 98;
export const OP_INVLPG: i32 = 99; export const OP_VMCALL: i32 = 100; export const OP_VMFUNC: i32 = 101;
export const OP_VMX: i32 = 102; export const OP_MOV_SREG_E: i32 = 103; export const OP_MOV_E_SREG: i32 = 104;
export const OP_CLTS: i32 = 105; export const OP_WBINVD: i32 = 106; export const OP_XGETBV: i32 = 107;
export const OP_XSETBV: i32 = 108; export const OP_SMSW: i32 = 109; export const OP_LMSW: i32 = 110;
export const OP_PUSH_SREG: i32 = 111; export const OP_POP_SREG: i32 = 112; export const OP_UD2: i32 = 113;
export const OP_INVD: i32 = 114; export const OP_INS: i32 = 115; export const OP_OUTS: i32 = 116;
// SSE/SSE2 floating point (assembly/sse/float/; the decoder's rows are decode/sse-float.ts). The
// instruction within a group is in the entry (D_IMM2 = opcode | mandatory prefix << 8, decode/sse-float.ts).
export const OP_SSE_MOVF: i32 = 117; export const OP_SSE_FARITH: i32 = 118; export const OP_SSE_FLOGIC: i32 = 119;
export const OP_SSE_FCMP: i32 = 120; export const OP_SSE_CVT: i32 = 121; export const OP_SSE_SHUFF: i32 = 122;
// SSE2 packed integer and MMX (assembly/sse/int/; decode/sse-int.ts).
export const OP_SSE_MOVI: i32 = 123; export const OP_SSE_IARITH: i32 = 124; export const OP_SSE_ISHIFT: i32 = 125;
export const OP_SSE_ICMP: i32 = 126; export const OP_SSE_PACK: i32 = 127; export const OP_SSE_ILOGIC: i32 = 128;
export const OP_EMMS: i32 = 129;
// The x87/SSE state and far transfers (assembly/sse/state-ops.ts, assembly/far.ts).
export const OP_FXSAVE: i32 = 130; export const OP_FXRSTOR: i32 = 131; export const OP_LDMXCSR: i32 = 132;
export const OP_STMXCSR: i32 = 133; export const OP_RETF: i32 = 134; export const OP_JMPF: i32 = 135;
export const OP_CALLF: i32 = 136; export const OP_CLFLUSH: i32 = 137;
// The x87 FPU (assembly/x87/; decode/x87.ts).
export const OP_X87_LOAD: i32 = 138; export const OP_X87_STORE: i32 = 139; export const OP_X87_ARITH: i32 = 140;
export const OP_X87_CMP: i32 = 141; export const OP_X87_TRANS: i32 = 142; export const OP_X87_CTRL: i32 = 143;
export const OP_X87_ENV: i32 = 144; export const OP_FWAIT: i32 = 145;
// Descriptor checks, fast system calls through the SYSENTER MSRs, RDPMC and INT1 (assembly/descriptor-check.ts,
// assembly/sysenter.ts, msr.ts, system.ts). VERR/VERW share a row: D_SUB is the ModRM digit (4 VERR, 5 VERW).
export const OP_VERRW: i32 = 146; export const OP_LAR: i32 = 147; export const OP_LSL: i32 = 148;
export const OP_SYSENTER: i32 = 149; export const OP_SYSEXIT: i32 = 150; export const OP_RDPMC: i32 = 151;
export const OP_INT1: i32 = 152;
/** One more than the largest id: the size of every per-operation table (costs included). */
export const OP_COUNT: i32 = 153;

// ---- attributes ---------------------------------------------------------------------------
// Unit: which part of the CPU executes the operation (Bochs groups its handlers the same way).
export const UNIT_INT: u32 = 0;     // integer ALU, moves, stack, flags (exec.ts, alu.ts)
export const UNIT_BRANCH: u32 = 1;  // near control transfers
export const UNIT_STRING: u32 = 2;  // MOVS/CMPS/STOS/LODS/SCAS with REP
export const UNIT_SYSTEM: u32 = 3;  // system instructions and exceptions (system.ts, events.ts)
export const UNIT_IO: u32 = 4;      // port I/O (IN/OUT/INS/OUTS)
export const UNIT_VMX: u32 = 5;     // VMX instructions (VMCALL, VMFUNC, VMLAUNCH...)
export const UNIT_X87: u32 = 6;     // x87 FPU (D8-DF, WAIT): assembly/x87/
export const UNIT_SSE: u32 = 7;     // SSE/SSE2, MMX, FXSAVE/FXRSTOR, LDMXCSR/STMXCSR: assembly/sse/
const UNIT_MASK: u32 = 15;

/** Ends a decoded block: it transfers control, changes interruptibility, may exit, or faults. */
export const ENDS_BLOCK: u32 = 16;

// Cost class: the virtual cycles an operation costs before a profile prices it (Machine.setCost
// then sets one operation's cycles). Today every class costs the flat model's one cycle.
export const COST_FLAT: u32 = 0;
const COST_CLASS_CYCLES: u32[] = [1];
const COST_SHIFT: u32 = 8;

const ATTRS: u32[] = new Array<u32>(OP_COUNT);
const NAMES: string[] = new Array<string>(OP_COUNT);

function op(id: i32, name: string, unit: u32, flags: u32): void {
  NAMES[id] = name;
  ATTRS[id] = unit | flags | (COST_FLAT << COST_SHIFT);
}

// ---- the table ----------------------------------------------------------------------------
op(OP_UD, "UD", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_TOOLONG, "TOOLONG", UNIT_SYSTEM, ENDS_BLOCK); // more than 15 bytes: #GP(0)
op(OP_UD2, "UD2", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_ALU_EG, "ALU_EG", UNIT_INT, 0); op(OP_ALU_GE, "ALU_GE", UNIT_INT, 0); op(OP_ALU_EI, "ALU_EI", UNIT_INT, 0);
op(OP_TEST_EG, "TEST_EG", UNIT_INT, 0); op(OP_TEST_EI, "TEST_EI", UNIT_INT, 0);
op(OP_MOV_EG, "MOV_EG", UNIT_INT, 0); op(OP_MOV_GE, "MOV_GE", UNIT_INT, 0); op(OP_MOV_EI, "MOV_EI", UNIT_INT, 0);
op(OP_LEA, "LEA", UNIT_INT, 0); op(OP_MOVZX, "MOVZX", UNIT_INT, 0); op(OP_MOVSX, "MOVSX", UNIT_INT, 0);
op(OP_XCHG, "XCHG", UNIT_INT, 0); op(OP_BSWAP, "BSWAP", UNIT_INT, 0); op(OP_MOVBE, "MOVBE", UNIT_INT, 0);
op(OP_INC, "INC", UNIT_INT, 0); op(OP_DEC, "DEC", UNIT_INT, 0); op(OP_NEG, "NEG", UNIT_INT, 0); op(OP_NOT, "NOT", UNIT_INT, 0);
op(OP_SHIFT, "SHIFT", UNIT_INT, 0); op(OP_SHLD, "SHLD", UNIT_INT, 0); op(OP_SHRD, "SHRD", UNIT_INT, 0);
op(OP_MULDIV, "MULDIV", UNIT_INT, 0); op(OP_IMUL_GE, "IMUL_GE", UNIT_INT, 0); op(OP_IMUL_GEI, "IMUL_GEI", UNIT_INT, 0);
op(OP_CONV_A, "CONV_A", UNIT_INT, 0); op(OP_CONV_D, "CONV_D", UNIT_INT, 0);
op(OP_BT_EG, "BT_EG", UNIT_INT, 0); op(OP_BT_EI, "BT_EI", UNIT_INT, 0);
op(OP_BSF, "BSF", UNIT_INT, 0); op(OP_BSR, "BSR", UNIT_INT, 0); op(OP_POPCNT, "POPCNT", UNIT_INT, 0);
op(OP_LZCNT, "LZCNT", UNIT_INT, 0); op(OP_TZCNT, "TZCNT", UNIT_INT, 0);
op(OP_SETCC, "SETCC", UNIT_INT, 0); op(OP_CMOVCC, "CMOVCC", UNIT_INT, 0);
op(OP_XADD, "XADD", UNIT_INT, 0); op(OP_CMPXCHG, "CMPXCHG", UNIT_INT, 0); op(OP_CMPXCHGB, "CMPXCHGB", UNIT_INT, 0);
op(OP_XLAT, "XLAT", UNIT_INT, 0); op(OP_NOP, "NOP", UNIT_INT, 0); op(OP_PAUSE, "PAUSE", UNIT_INT, 0);
op(OP_PUSH_R, "PUSH_R", UNIT_INT, 0); op(OP_POP_R, "POP_R", UNIT_INT, 0); op(OP_PUSH_E, "PUSH_E", UNIT_INT, 0);
op(OP_POP_E, "POP_E", UNIT_INT, 0); op(OP_PUSH_I, "PUSH_I", UNIT_INT, 0); op(OP_PUSHF, "PUSHF", UNIT_INT, 0);
op(OP_POPF, "POPF", UNIT_INT, ENDS_BLOCK); // may set IF or TF
op(OP_LEAVE, "LEAVE", UNIT_INT, 0); op(OP_ENTER, "ENTER", UNIT_INT, 0);
op(OP_LAHF, "LAHF", UNIT_INT, 0); op(OP_SAHF, "SAHF", UNIT_INT, 0);
op(OP_CLC, "CLC", UNIT_INT, 0); op(OP_STC, "STC", UNIT_INT, 0); op(OP_CMC, "CMC", UNIT_INT, 0);
op(OP_CLD, "CLD", UNIT_INT, 0); op(OP_STD, "STD", UNIT_INT, 0);
op(OP_JCC, "JCC", UNIT_BRANCH, ENDS_BLOCK); op(OP_JMP, "JMP", UNIT_BRANCH, ENDS_BLOCK);
op(OP_CALL, "CALL", UNIT_BRANCH, ENDS_BLOCK); op(OP_RET, "RET", UNIT_BRANCH, ENDS_BLOCK);
op(OP_JMP_E, "JMP_E", UNIT_BRANCH, ENDS_BLOCK); op(OP_CALL_E, "CALL_E", UNIT_BRANCH, ENDS_BLOCK);
op(OP_LOOP, "LOOP", UNIT_BRANCH, ENDS_BLOCK);
op(OP_MOVS, "MOVS", UNIT_STRING, 0); op(OP_CMPS, "CMPS", UNIT_STRING, 0); op(OP_STOS, "STOS", UNIT_STRING, 0);
op(OP_LODS, "LODS", UNIT_STRING, 0); op(OP_SCAS, "SCAS", UNIT_STRING, 0);
op(OP_IN, "IN", UNIT_IO, ENDS_BLOCK); op(OP_OUT, "OUT", UNIT_IO, ENDS_BLOCK);
op(OP_INS, "INS", UNIT_IO, ENDS_BLOCK); op(OP_OUTS, "OUTS", UNIT_IO, ENDS_BLOCK);
op(OP_CPUID, "CPUID", UNIT_SYSTEM, ENDS_BLOCK); op(OP_RDTSC, "RDTSC", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_RDTSCP, "RDTSCP", UNIT_SYSTEM, ENDS_BLOCK); op(OP_RDMSR, "RDMSR", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_WRMSR, "WRMSR", UNIT_SYSTEM, ENDS_BLOCK); op(OP_HLT, "HLT", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_CLI, "CLI", UNIT_SYSTEM, ENDS_BLOCK); op(OP_STI, "STI", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_INT, "INT", UNIT_SYSTEM, ENDS_BLOCK); op(OP_INT3, "INT3", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_IRET, "IRET", UNIT_SYSTEM, ENDS_BLOCK); op(OP_SYSCALL, "SYSCALL", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_SYSRET, "SYSRET", UNIT_SYSTEM, ENDS_BLOCK); op(OP_SWAPGS, "SWAPGS", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_MOV_R_CR, "MOV_R_CR", UNIT_SYSTEM, ENDS_BLOCK); op(OP_MOV_CR_R, "MOV_CR_R", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_MOV_R_DR, "MOV_R_DR", UNIT_SYSTEM, ENDS_BLOCK); op(OP_MOV_DR_R, "MOV_DR_R", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_LGDT, "LGDT", UNIT_SYSTEM, ENDS_BLOCK); op(OP_LIDT, "LIDT", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_SGDT, "SGDT", UNIT_SYSTEM, ENDS_BLOCK); op(OP_SIDT, "SIDT", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_LTR, "LTR", UNIT_SYSTEM, ENDS_BLOCK); op(OP_LLDT, "LLDT", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_STR, "STR", UNIT_SYSTEM, ENDS_BLOCK); op(OP_SLDT, "SLDT", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_INVLPG, "INVLPG", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_MOV_SREG_E, "MOV_SREG_E", UNIT_SYSTEM, ENDS_BLOCK); op(OP_MOV_E_SREG, "MOV_E_SREG", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_PUSH_SREG, "PUSH_SREG", UNIT_SYSTEM, ENDS_BLOCK); op(OP_POP_SREG, "POP_SREG", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_CLTS, "CLTS", UNIT_SYSTEM, ENDS_BLOCK); op(OP_WBINVD, "WBINVD", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_INVD, "INVD", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_XGETBV, "XGETBV", UNIT_SYSTEM, ENDS_BLOCK); op(OP_XSETBV, "XSETBV", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_SMSW, "SMSW", UNIT_SYSTEM, ENDS_BLOCK); op(OP_LMSW, "LMSW", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_VMCALL, "VMCALL", UNIT_VMX, ENDS_BLOCK); op(OP_VMFUNC, "VMFUNC", UNIT_VMX, ENDS_BLOCK);
op(OP_VMX, "VMX", UNIT_VMX, ENDS_BLOCK); // VMLAUNCH, VMREAD, INVEPT...: D_IMM holds the exit reason
op(OP_SSE_MOVF, "SSE_MOVF", UNIT_SSE, 0); op(OP_SSE_FARITH, "SSE_FARITH", UNIT_SSE, 0);
op(OP_SSE_FLOGIC, "SSE_FLOGIC", UNIT_SSE, 0); op(OP_SSE_FCMP, "SSE_FCMP", UNIT_SSE, 0);
op(OP_SSE_CVT, "SSE_CVT", UNIT_SSE, 0); op(OP_SSE_SHUFF, "SSE_SHUFF", UNIT_SSE, 0);
op(OP_SSE_MOVI, "SSE_MOVI", UNIT_SSE, 0); op(OP_SSE_IARITH, "SSE_IARITH", UNIT_SSE, 0);
op(OP_SSE_ISHIFT, "SSE_ISHIFT", UNIT_SSE, 0); op(OP_SSE_ICMP, "SSE_ICMP", UNIT_SSE, 0);
op(OP_SSE_PACK, "SSE_PACK", UNIT_SSE, 0); op(OP_SSE_ILOGIC, "SSE_ILOGIC", UNIT_SSE, 0);
op(OP_EMMS, "EMMS", UNIT_SSE, 0);
op(OP_FXSAVE, "FXSAVE", UNIT_SSE, 0); op(OP_FXRSTOR, "FXRSTOR", UNIT_SSE, 0);
op(OP_LDMXCSR, "LDMXCSR", UNIT_SSE, 0); op(OP_STMXCSR, "STMXCSR", UNIT_SSE, 0); op(OP_CLFLUSH, "CLFLUSH", UNIT_SSE, 0);
op(OP_RETF, "RETF", UNIT_BRANCH, ENDS_BLOCK); op(OP_JMPF, "JMPF", UNIT_BRANCH, ENDS_BLOCK);
op(OP_CALLF, "CALLF", UNIT_BRANCH, ENDS_BLOCK);
op(OP_X87_LOAD, "X87_LOAD", UNIT_X87, 0); op(OP_X87_STORE, "X87_STORE", UNIT_X87, 0);
op(OP_X87_ARITH, "X87_ARITH", UNIT_X87, 0); op(OP_X87_CMP, "X87_CMP", UNIT_X87, 0);
op(OP_X87_TRANS, "X87_TRANS", UNIT_X87, 0); op(OP_X87_CTRL, "X87_CTRL", UNIT_X87, 0);
op(OP_X87_ENV, "X87_ENV", UNIT_X87, 0); op(OP_FWAIT, "FWAIT", UNIT_X87, 0);
op(OP_VERRW, "VERRW", UNIT_SYSTEM, ENDS_BLOCK); op(OP_LAR, "LAR", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_LSL, "LSL", UNIT_SYSTEM, ENDS_BLOCK); op(OP_SYSENTER, "SYSENTER", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_SYSEXIT, "SYSEXIT", UNIT_SYSTEM, ENDS_BLOCK); op(OP_RDPMC, "RDPMC", UNIT_SYSTEM, ENDS_BLOCK);
op(OP_INT1, "INT1", UNIT_SYSTEM, ENDS_BLOCK);

// ---- readers ------------------------------------------------------------------------------
/** The operation's name (the OP_ constant without its prefix). */
export function opName(id: i32): string { return NAMES[id]; }
export function opUnit(id: i32): u32 { return ATTRS[id] & UNIT_MASK; }
export function opEndsBlock(id: i32): bool { return (ATTRS[id] & ENDS_BLOCK) != 0; }
export function opCostClass(id: i32): u32 { return ATTRS[id] >> COST_SHIFT; }
/** Cycles the operation costs until a profile sets its own (Machine.setCost). */
export function opDefaultCycles(id: i32): u32 { return COST_CLASS_CYCLES[opCostClass(id)]; }
