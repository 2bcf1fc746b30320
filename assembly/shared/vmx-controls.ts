// VM-execution, VM-exit and VM-entry control bits (Intel SDM Vol. 3C 25.6.1 Table 25-5, 25.6.2
// Tables 25-6/25-7, 25.7.1 Table 25-13, 25.8.1 Table 25-15) and the interruption-information format
// (25.8.3 Table 25-17, 27.2.2 Table 28-19), spelled as Linux's arch/x86/include/asm/vmx.h. The CPU
// honours them (assembly/vmx.ts, system.ts); Xen's side sets them (src/xen/vcpu.ts). All bits of a
// 32-bit field, so every value is below 2^32 and reads the same in TypeScript (bit 31 written as
// 0x80000000, not 1 << 31, which TypeScript would make negative).

// Pin-based VM-execution controls
export const PIN_BASED_EXT_INTR_MASK: u32 = 1 << 0;
export const PIN_BASED_NMI_EXITING: u32 = 1 << 3;
export const PIN_BASED_VIRTUAL_NMIS: u32 = 1 << 5;
export const PIN_BASED_VMX_PREEMPTION_TIMER: u32 = 1 << 6;
export const PIN_BASED_POSTED_INTR: u32 = 1 << 7;

// Primary processor-based VM-execution controls
export const CPU_BASED_INTR_WINDOW_EXITING: u32 = 1 << 2;
export const CPU_BASED_USE_TSC_OFFSETTING: u32 = 1 << 3;
export const CPU_BASED_HLT_EXITING: u32 = 1 << 7;
export const CPU_BASED_INVLPG_EXITING: u32 = 1 << 9;
export const CPU_BASED_MWAIT_EXITING: u32 = 1 << 10;
export const CPU_BASED_RDPMC_EXITING: u32 = 1 << 11;
export const CPU_BASED_RDTSC_EXITING: u32 = 1 << 12;
export const CPU_BASED_CR3_LOAD_EXITING: u32 = 1 << 15;
export const CPU_BASED_CR3_STORE_EXITING: u32 = 1 << 16;
export const CPU_BASED_CR8_LOAD_EXITING: u32 = 1 << 19;
export const CPU_BASED_CR8_STORE_EXITING: u32 = 1 << 20;
export const CPU_BASED_TPR_SHADOW: u32 = 1 << 21;
export const CPU_BASED_NMI_WINDOW_EXITING: u32 = 1 << 22;
export const CPU_BASED_MOV_DR_EXITING: u32 = 1 << 23;
export const CPU_BASED_UNCOND_IO_EXITING: u32 = 1 << 24;
export const CPU_BASED_USE_IO_BITMAPS: u32 = 1 << 25;
export const CPU_BASED_MONITOR_TRAP_FLAG: u32 = 1 << 27;
export const CPU_BASED_USE_MSR_BITMAPS: u32 = 1 << 28;
export const CPU_BASED_MONITOR_EXITING: u32 = 1 << 29;
export const CPU_BASED_PAUSE_EXITING: u32 = 1 << 30;
export const CPU_BASED_ACTIVATE_SECONDARY_CONTROLS: u32 = 0x80000000;

// Secondary processor-based VM-execution controls
export const SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES: u32 = 1 << 0;
export const SECONDARY_EXEC_ENABLE_EPT: u32 = 1 << 1;
export const SECONDARY_EXEC_DESC: u32 = 1 << 2;
export const SECONDARY_EXEC_ENABLE_RDTSCP: u32 = 1 << 3;
export const SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE: u32 = 1 << 4;
export const SECONDARY_EXEC_ENABLE_VPID: u32 = 1 << 5;
export const SECONDARY_EXEC_WBINVD_EXITING: u32 = 1 << 6;
export const SECONDARY_EXEC_UNRESTRICTED_GUEST: u32 = 1 << 7;
export const SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY: u32 = 1 << 9;
export const SECONDARY_EXEC_PAUSE_LOOP_EXITING: u32 = 1 << 10;
export const SECONDARY_EXEC_ENABLE_INVPCID: u32 = 1 << 12;
export const SECONDARY_EXEC_ENABLE_VMFUNC: u32 = 1 << 13;
export const SECONDARY_EXEC_SHADOW_VMCS: u32 = 1 << 14;
export const SECONDARY_EXEC_EPT_VIOLATION_VE: u32 = 1 << 18;
export const SECONDARY_EXEC_ENABLE_XSAVES: u32 = 1 << 20;
export const SECONDARY_EXEC_TSC_SCALING: u32 = 1 << 25;

// VM-exit controls
export const VM_EXIT_HOST_ADDR_SPACE_SIZE: u32 = 1 << 9;
export const VM_EXIT_ACK_INTR_ON_EXIT: u32 = 1 << 15;
export const VM_EXIT_SAVE_VMX_PREEMPTION_TIMER: u32 = 1 << 22;

// VM-entry controls
export const VM_ENTRY_IA32E_MODE: u32 = 1 << 9;

// Interruption-information fields (VM-entry, VM-exit, IDT-vectoring)
export const INTR_INFO_VECTOR_MASK: u32 = 0xff;
export const INTR_INFO_INTR_TYPE_MASK: u32 = 0x700;
export const INTR_INFO_DELIVER_CODE_MASK: u32 = 1 << 11;
export const INTR_INFO_VALID_MASK: u32 = 0x80000000;
/** Bits 30:12, which VM entry requires clear (Xen's name). */
export const INTR_INFO_RESVD_BITS_MASK: u32 = 0x7ffff000;
// Interruption types, in place (bits 10:8)
export const INTR_TYPE_EXT_INTR: u32 = 0 << 8;
export const INTR_TYPE_NMI_INTR: u32 = 2 << 8;
export const INTR_TYPE_HARD_EXCEPTION: u32 = 3 << 8;
export const INTR_TYPE_SOFT_INTR: u32 = 4 << 8;
export const INTR_TYPE_PRIV_SW_EXCEPTION: u32 = 5 << 8;
export const INTR_TYPE_SOFT_EXCEPTION: u32 = 6 << 8;
