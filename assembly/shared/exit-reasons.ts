// Basic VM-exit reasons (Intel SDM Vol. 3C, Appendix C "VMX Basic Exit Reasons"), spelled as Xen's
// xen/arch/x86/include/asm/hvm/vmx/vmx.h spells them (EXIT_REASON_RDRAND, which Xen leaves out, as
// Linux spells it). The CPU raises exits with these constants and the host dispatches on them
// (src/xen/vmx.ts); exitReasonShortName is the name the host prints for one (`run --json`'s
// by_reason, the debugger, the cost profiles' handler keys). Those short names are Linux's
// (arch/x86/include/uapi/asm/vmx.h), which is what the tools' output has always shown.

/** Bit 31 of the exit-reason field: the exit is a VM-entry failure (SDM 27.8). */
export const VMX_EXIT_REASONS_FAILED_VMENTRY: u32 = 0x80000000;

export const EXIT_REASON_EXCEPTION_NMI: u32 = 0;
export const EXIT_REASON_EXTERNAL_INTERRUPT: u32 = 1;
export const EXIT_REASON_TRIPLE_FAULT: u32 = 2;
export const EXIT_REASON_INIT: u32 = 3;
export const EXIT_REASON_SIPI: u32 = 4;
export const EXIT_REASON_IO_SMI: u32 = 5;
export const EXIT_REASON_OTHER_SMI: u32 = 6;
export const EXIT_REASON_PENDING_VIRT_INTR: u32 = 7;
export const EXIT_REASON_PENDING_VIRT_NMI: u32 = 8;
export const EXIT_REASON_TASK_SWITCH: u32 = 9;
export const EXIT_REASON_CPUID: u32 = 10;
export const EXIT_REASON_GETSEC: u32 = 11;
export const EXIT_REASON_HLT: u32 = 12;
export const EXIT_REASON_INVD: u32 = 13;
export const EXIT_REASON_INVLPG: u32 = 14;
export const EXIT_REASON_RDPMC: u32 = 15;
export const EXIT_REASON_RDTSC: u32 = 16;
export const EXIT_REASON_RSM: u32 = 17;
export const EXIT_REASON_VMCALL: u32 = 18;
export const EXIT_REASON_VMCLEAR: u32 = 19;
export const EXIT_REASON_VMLAUNCH: u32 = 20;
export const EXIT_REASON_VMPTRLD: u32 = 21;
export const EXIT_REASON_VMPTRST: u32 = 22;
export const EXIT_REASON_VMREAD: u32 = 23;
export const EXIT_REASON_VMRESUME: u32 = 24;
export const EXIT_REASON_VMWRITE: u32 = 25;
export const EXIT_REASON_VMXOFF: u32 = 26;
export const EXIT_REASON_VMXON: u32 = 27;
export const EXIT_REASON_CR_ACCESS: u32 = 28;
export const EXIT_REASON_DR_ACCESS: u32 = 29;
export const EXIT_REASON_IO_INSTRUCTION: u32 = 30;
export const EXIT_REASON_MSR_READ: u32 = 31;
export const EXIT_REASON_MSR_WRITE: u32 = 32;
export const EXIT_REASON_INVALID_GUEST_STATE: u32 = 33;
export const EXIT_REASON_MSR_LOADING: u32 = 34;
export const EXIT_REASON_MWAIT_INSTRUCTION: u32 = 36;
export const EXIT_REASON_MONITOR_TRAP_FLAG: u32 = 37;
export const EXIT_REASON_MONITOR_INSTRUCTION: u32 = 39;
export const EXIT_REASON_PAUSE_INSTRUCTION: u32 = 40;
export const EXIT_REASON_MCE_DURING_VMENTRY: u32 = 41;
export const EXIT_REASON_TPR_BELOW_THRESHOLD: u32 = 43;
export const EXIT_REASON_APIC_ACCESS: u32 = 44;
export const EXIT_REASON_EOI_INDUCED: u32 = 45;
export const EXIT_REASON_ACCESS_GDTR_OR_IDTR: u32 = 46;
export const EXIT_REASON_ACCESS_LDTR_OR_TR: u32 = 47;
export const EXIT_REASON_EPT_VIOLATION: u32 = 48;
export const EXIT_REASON_EPT_MISCONFIG: u32 = 49;
export const EXIT_REASON_INVEPT: u32 = 50;
export const EXIT_REASON_RDTSCP: u32 = 51;
export const EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED: u32 = 52;
export const EXIT_REASON_INVVPID: u32 = 53;
export const EXIT_REASON_WBINVD: u32 = 54;
export const EXIT_REASON_XSETBV: u32 = 55;
export const EXIT_REASON_APIC_WRITE: u32 = 56;
export const EXIT_REASON_RDRAND: u32 = 57;
export const EXIT_REASON_INVPCID: u32 = 58;
export const EXIT_REASON_VMFUNC: u32 = 59;

/** One past the largest basic exit reason above: the host's name table covers 0 .. this - 1. */
export const BASIC_EXIT_REASON_LIMIT: u32 = 60;

/** The name the host prints for a basic exit reason, or "" for a number the SDM leaves unused. */
export function exitReasonShortName(basic: u32): string {
  switch (basic) {
    case EXIT_REASON_EXCEPTION_NMI: return "EXCEPTION_NMI";
    case EXIT_REASON_EXTERNAL_INTERRUPT: return "EXTERNAL_INTERRUPT";
    case EXIT_REASON_TRIPLE_FAULT: return "TRIPLE_FAULT";
    case EXIT_REASON_INIT: return "INIT";
    case EXIT_REASON_SIPI: return "SIPI";
    case EXIT_REASON_IO_SMI: return "IO_SMI";
    case EXIT_REASON_OTHER_SMI: return "OTHER_SMI";
    case EXIT_REASON_PENDING_VIRT_INTR: return "INTERRUPT_WINDOW";
    case EXIT_REASON_PENDING_VIRT_NMI: return "NMI_WINDOW";
    case EXIT_REASON_TASK_SWITCH: return "TASK_SWITCH";
    case EXIT_REASON_CPUID: return "CPUID";
    case EXIT_REASON_GETSEC: return "GETSEC";
    case EXIT_REASON_HLT: return "HLT";
    case EXIT_REASON_INVD: return "INVD";
    case EXIT_REASON_INVLPG: return "INVLPG";
    case EXIT_REASON_RDPMC: return "RDPMC";
    case EXIT_REASON_RDTSC: return "RDTSC";
    case EXIT_REASON_RSM: return "RSM";
    case EXIT_REASON_VMCALL: return "VMCALL";
    case EXIT_REASON_VMCLEAR: return "VMCLEAR";
    case EXIT_REASON_VMLAUNCH: return "VMLAUNCH";
    case EXIT_REASON_VMPTRLD: return "VMPTRLD";
    case EXIT_REASON_VMPTRST: return "VMPTRST";
    case EXIT_REASON_VMREAD: return "VMREAD";
    case EXIT_REASON_VMRESUME: return "VMRESUME";
    case EXIT_REASON_VMWRITE: return "VMWRITE";
    case EXIT_REASON_VMXOFF: return "VMXOFF";
    case EXIT_REASON_VMXON: return "VMXON";
    case EXIT_REASON_CR_ACCESS: return "CR_ACCESS";
    case EXIT_REASON_DR_ACCESS: return "DR_ACCESS";
    case EXIT_REASON_IO_INSTRUCTION: return "IO_INSTRUCTION";
    case EXIT_REASON_MSR_READ: return "MSR_READ";
    case EXIT_REASON_MSR_WRITE: return "MSR_WRITE";
    case EXIT_REASON_INVALID_GUEST_STATE: return "INVALID_STATE";
    case EXIT_REASON_MSR_LOADING: return "MSR_LOAD_FAIL";
    case EXIT_REASON_MWAIT_INSTRUCTION: return "MWAIT_INSTRUCTION";
    case EXIT_REASON_MONITOR_TRAP_FLAG: return "MONITOR_TRAP_FLAG";
    case EXIT_REASON_MONITOR_INSTRUCTION: return "MONITOR_INSTRUCTION";
    case EXIT_REASON_PAUSE_INSTRUCTION: return "PAUSE_INSTRUCTION";
    case EXIT_REASON_MCE_DURING_VMENTRY: return "MCE_DURING_VMENTRY";
    case EXIT_REASON_TPR_BELOW_THRESHOLD: return "TPR_BELOW_THRESHOLD";
    case EXIT_REASON_APIC_ACCESS: return "APIC_ACCESS";
    case EXIT_REASON_EOI_INDUCED: return "EOI_INDUCED";
    case EXIT_REASON_ACCESS_GDTR_OR_IDTR: return "GDTR_IDTR";
    case EXIT_REASON_ACCESS_LDTR_OR_TR: return "LDTR_TR";
    case EXIT_REASON_EPT_VIOLATION: return "EPT_VIOLATION";
    case EXIT_REASON_EPT_MISCONFIG: return "EPT_MISCONFIG";
    case EXIT_REASON_INVEPT: return "INVEPT";
    case EXIT_REASON_RDTSCP: return "RDTSCP";
    case EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED: return "PREEMPTION_TIMER";
    case EXIT_REASON_INVVPID: return "INVVPID";
    case EXIT_REASON_WBINVD: return "WBINVD";
    case EXIT_REASON_XSETBV: return "XSETBV";
    case EXIT_REASON_APIC_WRITE: return "APIC_WRITE";
    case EXIT_REASON_RDRAND: return "RDRAND";
    case EXIT_REASON_INVPCID: return "INVPCID";
    case EXIT_REASON_VMFUNC: return "VMFUNC";
    default: return "";
  }
}
