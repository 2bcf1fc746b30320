// Register names both sides of the Wasm boundary use. The general-purpose registers in the order of
// their 4-bit encoding (Intel SDM Vol. 2A 2.2.1.2, Table 2-4, REX.B/R/X extending ModRM's 3 bits):
// the CPU's register file (assembly/state.ts) is indexed by that number, the host names them by it
// (`exec` JSONL keys, the debugger, exit qualifications that carry a register number, SDM Table 28-3).
export const GPR_NAMES: string[] = [
  "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
];
/** The same numbers by name (RAX = 0 ... R15 = 15): handlers on the exit path index the save area directly. */
export const RAX = 0; export const RCX = 1; export const RDX = 2; export const RBX = 3;
export const RSP = 4; export const RBP = 5; export const RSI = 6; export const RDI = 7;
export const R8 = 8; export const R9 = 9; export const R10 = 10; export const R11 = 11;
export const R12 = 12; export const R13 = 13; export const R14 = 14; export const R15 = 15;
