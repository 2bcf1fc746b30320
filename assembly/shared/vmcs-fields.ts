// VMCS field encodings (Intel SDM Vol. 3C, Appendix B "Field Encoding in VMCS"), every field this CPU
// implements, spelled as Linux's arch/x86/include/asm/vmx.h and Xen's vmcs.h spell them (the names a
// debugger user types). Compiled into the CPU (assembly/vmcs.ts re-exports them) and imported by the
// host (src/vmcs.ts), which takes the field-name table from this module's exports: so every export
// here is a field encoding, and nothing else belongs in this file.
//
// An encoding packs access type (bit 0: "high" half of a 64-bit field), index (9:1), type (11:10:
// control, read-only data, guest-state, host-state) and width (14:13: 16-bit, 64-bit, 32-bit,
// natural-width); the SDM's field lists below keep that order.

// 16-bit control fields (SDM Vol. 3C B.1.1)
export const VIRTUAL_PROCESSOR_ID: u32 = 0x0000;
export const POSTED_INTR_NV: u32 = 0x0002;
export const EPTP_INDEX: u32 = 0x0004;

// 16-bit guest-state fields (SDM Vol. 3C B.1.2)
export const GUEST_ES_SELECTOR: u32 = 0x0800;
export const GUEST_CS_SELECTOR: u32 = 0x0802;
export const GUEST_SS_SELECTOR: u32 = 0x0804;
export const GUEST_DS_SELECTOR: u32 = 0x0806;
export const GUEST_FS_SELECTOR: u32 = 0x0808;
export const GUEST_GS_SELECTOR: u32 = 0x080a;
export const GUEST_LDTR_SELECTOR: u32 = 0x080c;
export const GUEST_TR_SELECTOR: u32 = 0x080e;
export const GUEST_INTR_STATUS: u32 = 0x0810;

// 16-bit host-state fields (SDM Vol. 3C B.1.3)
export const HOST_ES_SELECTOR: u32 = 0x0c00;
export const HOST_CS_SELECTOR: u32 = 0x0c02;
export const HOST_SS_SELECTOR: u32 = 0x0c04;
export const HOST_DS_SELECTOR: u32 = 0x0c06;
export const HOST_FS_SELECTOR: u32 = 0x0c08;
export const HOST_GS_SELECTOR: u32 = 0x0c0a;
export const HOST_TR_SELECTOR: u32 = 0x0c0c;

// 64-bit control fields (SDM Vol. 3C B.2.1)
export const IO_BITMAP_A: u32 = 0x2000;
export const IO_BITMAP_B: u32 = 0x2002;
export const MSR_BITMAP: u32 = 0x2004;
export const VM_EXIT_MSR_STORE_ADDR: u32 = 0x2006;
export const VM_EXIT_MSR_LOAD_ADDR: u32 = 0x2008;
export const VM_ENTRY_MSR_LOAD_ADDR: u32 = 0x200a;
export const EXECUTIVE_VMCS_POINTER: u32 = 0x200c;
export const TSC_OFFSET: u32 = 0x2010;
export const VIRTUAL_APIC_PAGE_ADDR: u32 = 0x2012;
export const APIC_ACCESS_ADDR: u32 = 0x2014;
export const POSTED_INTR_DESC_ADDR: u32 = 0x2016;
export const VM_FUNCTION_CONTROL: u32 = 0x2018;
export const EPT_POINTER: u32 = 0x201a;
export const EOI_EXIT_BITMAP0: u32 = 0x201c;
export const EOI_EXIT_BITMAP1: u32 = 0x201e;
export const EOI_EXIT_BITMAP2: u32 = 0x2020;
export const EOI_EXIT_BITMAP3: u32 = 0x2022;
export const EPTP_LIST_ADDR: u32 = 0x2024;
export const VMREAD_BITMAP: u32 = 0x2026;
export const VMWRITE_BITMAP: u32 = 0x2028;
export const VIRT_EXCEPTION_INFO: u32 = 0x202a;
export const XSS_EXIT_BITMAP: u32 = 0x202c;
export const ENCLS_EXITING_BITMAP: u32 = 0x202e;
export const TSC_MULTIPLIER: u32 = 0x2032;

// 64-bit read-only data fields (SDM Vol. 3C B.2.2)
export const GUEST_PHYSICAL_ADDRESS: u32 = 0x2400;

// 64-bit guest-state fields (SDM Vol. 3C B.2.3)
export const VMCS_LINK_POINTER: u32 = 0x2800;
export const GUEST_IA32_DEBUGCTL: u32 = 0x2802;
export const GUEST_IA32_PAT: u32 = 0x2804;
export const GUEST_IA32_EFER: u32 = 0x2806;

// 64-bit host-state fields (SDM Vol. 3C B.2.4)
export const HOST_IA32_PAT: u32 = 0x2c00;
export const HOST_IA32_EFER: u32 = 0x2c02;

// 32-bit control fields (SDM Vol. 3C B.3.1)
export const PIN_BASED_VM_EXEC_CONTROL: u32 = 0x4000;
export const CPU_BASED_VM_EXEC_CONTROL: u32 = 0x4002;
export const EXCEPTION_BITMAP: u32 = 0x4004;
export const PAGE_FAULT_ERROR_CODE_MASK: u32 = 0x4006;
export const PAGE_FAULT_ERROR_CODE_MATCH: u32 = 0x4008;
export const CR3_TARGET_COUNT: u32 = 0x400a;
export const VM_EXIT_CONTROLS: u32 = 0x400c;
export const VM_EXIT_MSR_STORE_COUNT: u32 = 0x400e;
export const VM_EXIT_MSR_LOAD_COUNT: u32 = 0x4010;
export const VM_ENTRY_CONTROLS: u32 = 0x4012;
export const VM_ENTRY_MSR_LOAD_COUNT: u32 = 0x4014;
export const VM_ENTRY_INTR_INFO_FIELD: u32 = 0x4016;
export const VM_ENTRY_EXCEPTION_ERROR_CODE: u32 = 0x4018;
export const VM_ENTRY_INSTRUCTION_LEN: u32 = 0x401a;
export const TPR_THRESHOLD: u32 = 0x401c;
export const SECONDARY_VM_EXEC_CONTROL: u32 = 0x401e;
export const PLE_GAP: u32 = 0x4020;
export const PLE_WINDOW: u32 = 0x4022;

// 32-bit read-only data fields (SDM Vol. 3C B.3.2)
export const VM_INSTRUCTION_ERROR: u32 = 0x4400;
export const VM_EXIT_REASON: u32 = 0x4402;
export const VM_EXIT_INTR_INFO: u32 = 0x4404;
export const VM_EXIT_INTR_ERROR_CODE: u32 = 0x4406;
export const IDT_VECTORING_INFO_FIELD: u32 = 0x4408;
export const IDT_VECTORING_ERROR_CODE: u32 = 0x440a;
export const VM_EXIT_INSTRUCTION_LEN: u32 = 0x440c;
export const VMX_INSTRUCTION_INFO: u32 = 0x440e;

// 32-bit guest-state fields (SDM Vol. 3C B.3.3)
export const GUEST_ES_LIMIT: u32 = 0x4800;
export const GUEST_CS_LIMIT: u32 = 0x4802;
export const GUEST_SS_LIMIT: u32 = 0x4804;
export const GUEST_DS_LIMIT: u32 = 0x4806;
export const GUEST_FS_LIMIT: u32 = 0x4808;
export const GUEST_GS_LIMIT: u32 = 0x480a;
export const GUEST_LDTR_LIMIT: u32 = 0x480c;
export const GUEST_TR_LIMIT: u32 = 0x480e;
export const GUEST_GDTR_LIMIT: u32 = 0x4810;
export const GUEST_IDTR_LIMIT: u32 = 0x4812;
export const GUEST_ES_AR_BYTES: u32 = 0x4814;
export const GUEST_CS_AR_BYTES: u32 = 0x4816;
export const GUEST_SS_AR_BYTES: u32 = 0x4818;
export const GUEST_DS_AR_BYTES: u32 = 0x481a;
export const GUEST_FS_AR_BYTES: u32 = 0x481c;
export const GUEST_GS_AR_BYTES: u32 = 0x481e;
export const GUEST_LDTR_AR_BYTES: u32 = 0x4820;
export const GUEST_TR_AR_BYTES: u32 = 0x4822;
export const GUEST_INTERRUPTIBILITY_INFO: u32 = 0x4824;
export const GUEST_ACTIVITY_STATE: u32 = 0x4826;
export const GUEST_SMBASE: u32 = 0x4828;
export const GUEST_SYSENTER_CS: u32 = 0x482a;
export const VMX_PREEMPTION_TIMER_VALUE: u32 = 0x482e;

// 32-bit host-state fields (SDM Vol. 3C B.3.4)
export const HOST_IA32_SYSENTER_CS: u32 = 0x4c00;

// natural-width control fields (SDM Vol. 3C B.4.1)
export const CR0_GUEST_HOST_MASK: u32 = 0x6000;
export const CR4_GUEST_HOST_MASK: u32 = 0x6002;
export const CR0_READ_SHADOW: u32 = 0x6004;
export const CR4_READ_SHADOW: u32 = 0x6006;
export const CR3_TARGET_VALUE0: u32 = 0x6008;
export const CR3_TARGET_VALUE1: u32 = 0x600a;
export const CR3_TARGET_VALUE2: u32 = 0x600c;
export const CR3_TARGET_VALUE3: u32 = 0x600e;

// natural-width read-only data fields (SDM Vol. 3C B.4.2)
export const EXIT_QUALIFICATION: u32 = 0x6400;
export const IO_RCX: u32 = 0x6402;
export const IO_RSI: u32 = 0x6404;
export const IO_RDI: u32 = 0x6406;
export const IO_RIP: u32 = 0x6408;
export const GUEST_LINEAR_ADDRESS: u32 = 0x640a;

// natural-width guest-state fields (SDM Vol. 3C B.4.3)
export const GUEST_CR0: u32 = 0x6800;
export const GUEST_CR3: u32 = 0x6802;
export const GUEST_CR4: u32 = 0x6804;
export const GUEST_ES_BASE: u32 = 0x6806;
export const GUEST_CS_BASE: u32 = 0x6808;
export const GUEST_SS_BASE: u32 = 0x680a;
export const GUEST_DS_BASE: u32 = 0x680c;
export const GUEST_FS_BASE: u32 = 0x680e;
export const GUEST_GS_BASE: u32 = 0x6810;
export const GUEST_LDTR_BASE: u32 = 0x6812;
export const GUEST_TR_BASE: u32 = 0x6814;
export const GUEST_GDTR_BASE: u32 = 0x6816;
export const GUEST_IDTR_BASE: u32 = 0x6818;
export const GUEST_DR7: u32 = 0x681a;
export const GUEST_RSP: u32 = 0x681c;
export const GUEST_RIP: u32 = 0x681e;
export const GUEST_RFLAGS: u32 = 0x6820;
export const GUEST_PENDING_DBG_EXCEPTIONS: u32 = 0x6822;
export const GUEST_SYSENTER_ESP: u32 = 0x6824;
export const GUEST_SYSENTER_EIP: u32 = 0x6826;

// natural-width host-state fields (SDM Vol. 3C B.4.4)
export const HOST_CR0: u32 = 0x6c00;
export const HOST_CR3: u32 = 0x6c02;
export const HOST_CR4: u32 = 0x6c04;
export const HOST_FS_BASE: u32 = 0x6c06;
export const HOST_GS_BASE: u32 = 0x6c08;
export const HOST_TR_BASE: u32 = 0x6c0a;
export const HOST_GDTR_BASE: u32 = 0x6c0c;
export const HOST_IDTR_BASE: u32 = 0x6c0e;
export const HOST_IA32_SYSENTER_ESP: u32 = 0x6c10;
export const HOST_IA32_SYSENTER_EIP: u32 = 0x6c12;
export const HOST_RSP: u32 = 0x6c14;
export const HOST_RIP: u32 = 0x6c16;
