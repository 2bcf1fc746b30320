// Model-specific register indices (Intel SDM Vol. 4, Table 2-2 "IA-32 Architectural MSRs"), spelled as
// Xen's xen/arch/x86/include/asm/msr-index.h. The CPU implements them (assembly/system.ts RDMSR/WRMSR);
// Xen's MSR intercepts (src/xen/vmexit/msr.ts), the debugger's exit decoding and LibVMI's register
// reads name the same registers. Every index is below 2^32.
export const MSR_IA32_TSC: u32 = 0x10;
export const MSR_IA32_APIC_BASE: u32 = 0x1b;
export const MSR_IA32_FEATURE_CONTROL: u32 = 0x3a;
/** The microcode revision (Linux: MSR_IA32_UCODE_REV; Intel and AMD share the index). */
export const MSR_AMD_PATCHLEVEL: u32 = 0x8b;
export const MSR_INTEL_PLATFORM_INFO: u32 = 0xce;
export const MSR_INTEL_MISC_FEATURES_ENABLES: u32 = 0x140;
export const MSR_IA32_SYSENTER_CS: u32 = 0x174;
export const MSR_IA32_SYSENTER_ESP: u32 = 0x175;
export const MSR_IA32_SYSENTER_EIP: u32 = 0x176;
export const MSR_IA32_MISC_ENABLE: u32 = 0x1a0;
export const MSR_IA32_CR_PAT: u32 = 0x277;
export const MSR_EFER: u32 = 0xc0000080;
export const MSR_STAR: u32 = 0xc0000081;
export const MSR_LSTAR: u32 = 0xc0000082;
export const MSR_CSTAR: u32 = 0xc0000083;
export const MSR_SYSCALL_MASK: u32 = 0xc0000084;
export const MSR_FS_BASE: u32 = 0xc0000100;
export const MSR_GS_BASE: u32 = 0xc0000101;
export const MSR_SHADOW_GS_BASE: u32 = 0xc0000102;
export const MSR_TSC_AUX: u32 = 0xc0000103;

// IA32_EFER bits (SDM Vol. 3A 2.2.1, Table 2-1), as msr-index.h spells them; u64 like the register.
export const EFER_SCE: u64 = 1 << 0;
export const EFER_LME: u64 = 1 << 8;
export const EFER_LMA: u64 = 1 << 10;
export const EFER_NXE: u64 = 1 << 11;
