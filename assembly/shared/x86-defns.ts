// RFLAGS, CR0 and CR4 bits (Intel SDM Vol. 3A 2.3 "System Flags and Fields in the EFLAGS Register",
// 2.5 "Control Registers"), spelled as Xen's xen/arch/x86/include/asm/x86-defns.h. The CPU tests them
// on every instruction (assembly/state.ts re-exports them under its short names); Xen's handlers and the
// debugger read the same bits. Typed u64 because the CPU masks 64-bit registers with them; every value is
// below 2^32 (bit 31 written as 0x80000000, which TypeScript keeps positive).

export const X86_EFLAGS_CF: u64 = 1 << 0;
export const X86_EFLAGS_MBS: u64 = 1 << 1;  // reserved, always 1
export const X86_EFLAGS_PF: u64 = 1 << 2;
export const X86_EFLAGS_AF: u64 = 1 << 4;
export const X86_EFLAGS_ZF: u64 = 1 << 6;
export const X86_EFLAGS_SF: u64 = 1 << 7;
export const X86_EFLAGS_TF: u64 = 1 << 8;
export const X86_EFLAGS_IF: u64 = 1 << 9;
export const X86_EFLAGS_DF: u64 = 1 << 10;
export const X86_EFLAGS_OF: u64 = 1 << 11;
export const X86_EFLAGS_IOPL: u64 = 3 << 12;
export const X86_EFLAGS_NT: u64 = 1 << 14;
export const X86_EFLAGS_RF: u64 = 1 << 16;
export const X86_EFLAGS_VM: u64 = 1 << 17;
export const X86_EFLAGS_AC: u64 = 1 << 18;
export const X86_EFLAGS_VIF: u64 = 1 << 19;
export const X86_EFLAGS_VIP: u64 = 1 << 20;
export const X86_EFLAGS_ID: u64 = 1 << 21;

export const X86_CR0_PE: u64 = 1 << 0;
export const X86_CR0_MP: u64 = 1 << 1;
export const X86_CR0_EM: u64 = 1 << 2;
export const X86_CR0_TS: u64 = 1 << 3;
export const X86_CR0_ET: u64 = 1 << 4;
export const X86_CR0_NE: u64 = 1 << 5;
export const X86_CR0_WP: u64 = 1 << 16;
export const X86_CR0_AM: u64 = 1 << 18;
export const X86_CR0_NW: u64 = 1 << 29;
export const X86_CR0_CD: u64 = 1 << 30;
export const X86_CR0_PG: u64 = 0x80000000;

export const X86_CR4_PAE: u64 = 1 << 5;
export const X86_CR4_MCE: u64 = 1 << 6;
export const X86_CR4_PGE: u64 = 1 << 7;
export const X86_CR4_OSFXSR: u64 = 1 << 9;
export const X86_CR4_OSXMMEXCPT: u64 = 1 << 10;
export const X86_CR4_VMXE: u64 = 1 << 13;
export const X86_CR4_FSGSBASE: u64 = 1 << 16;
export const X86_CR4_PCIDE: u64 = 1 << 17;
export const X86_CR4_OSXSAVE: u64 = 1 << 18;
export const X86_CR4_SMEP: u64 = 1 << 20;
export const X86_CR4_SMAP: u64 = 1 << 21;

// Exception vectors (SDM Vol. 3A 6.3.1, Table 6-1), as x86-defns.h names them (X86_EXC_*).
export const X86_EXC_DE: i32 = 0;
export const X86_EXC_DB: i32 = 1;
export const X86_EXC_NMI: i32 = 2;
export const X86_EXC_BP: i32 = 3;
export const X86_EXC_OF: i32 = 4;
export const X86_EXC_BR: i32 = 5;
export const X86_EXC_UD: i32 = 6;
export const X86_EXC_NM: i32 = 7;
export const X86_EXC_DF: i32 = 8;
export const X86_EXC_CSO: i32 = 9;
export const X86_EXC_TS: i32 = 10;
export const X86_EXC_NP: i32 = 11;
export const X86_EXC_SS: i32 = 12;
export const X86_EXC_GP: i32 = 13;
export const X86_EXC_PF: i32 = 14;
export const X86_EXC_MF: i32 = 16;
export const X86_EXC_AC: i32 = 17;
export const X86_EXC_MC: i32 = 18;
export const X86_EXC_XM: i32 = 19;
export const X86_EXC_VE: i32 = 20;
export const X86_EXC_CP: i32 = 21;
