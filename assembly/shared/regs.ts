// Register names both sides of the Wasm boundary use. The general-purpose registers in the order of
// their 4-bit encoding (Intel SDM Vol. 2A 2.2.1.2, Table 2-4, REX.B/R/X extending ModRM's 3 bits):
// the CPU's register file (assembly/state.ts) is indexed by that number, the host names them by it
// (`exec` JSONL keys, the debugger, exit qualifications that carry a register number, SDM Table 28-3).
export const GPR_NAMES: string[] = [
  "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
  "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
];
