// The VMCS: field storage addressed only by the SDM's field encodings
// (Vol. 3C, Appendix B "Field Encoding in VMCS"). An encoding packs
// access type (bit 0), index (9:1), type (11:10) and width (14:13); we use
// width:type:index as the slot number, so every architectural field has a slot.
import { VMCS, VMCS_PRESENT } from "./layout";

// 16-bit fields
export const VIRTUAL_PROCESSOR_ID: u32 = 0x0000;
export const POSTED_INTR_NV: u32 = 0x0002;
export const EPTP_INDEX: u32 = 0x0004;
export const GUEST_ES_SELECTOR: u32 = 0x0800; // ES CS SS DS FS GS LDTR TR, step 2
export const GUEST_INTR_STATUS: u32 = 0x0810;
export const HOST_ES_SELECTOR: u32 = 0x0c00;  // ES CS SS DS FS GS TR, step 2
// 64-bit control fields
export const IO_BITMAP_A: u32 = 0x2000;
export const IO_BITMAP_B: u32 = 0x2002;
export const MSR_BITMAP: u32 = 0x2004;
export const VM_EXIT_MSR_STORE_ADDR: u32 = 0x2006;
export const VM_EXIT_MSR_LOAD_ADDR: u32 = 0x2008;
export const VM_ENTRY_MSR_LOAD_ADDR: u32 = 0x200a;
export const TSC_OFFSET: u32 = 0x2010;
export const VIRTUAL_APIC_PAGE_ADDR: u32 = 0x2012;
export const APIC_ACCESS_ADDR: u32 = 0x2014;
export const VM_FUNCTION_CONTROL: u32 = 0x2018;
export const EPT_POINTER: u32 = 0x201a;
export const EPTP_LIST_ADDR: u32 = 0x2024;
export const VIRT_EXCEPTION_INFO: u32 = 0x202a;
export const TSC_MULTIPLIER: u32 = 0x2032;
export const GUEST_PHYSICAL_ADDRESS: u32 = 0x2400;
export const VMCS_LINK_POINTER: u32 = 0x2800;
export const GUEST_IA32_DEBUGCTL: u32 = 0x2802;
export const GUEST_IA32_PAT: u32 = 0x2804;
export const GUEST_IA32_EFER: u32 = 0x2806;
export const HOST_IA32_PAT: u32 = 0x2c00;
export const HOST_IA32_EFER: u32 = 0x2c02;
// 32-bit fields
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
export const VM_ENTRY_INTR_INFO: u32 = 0x4016;
export const VM_ENTRY_EXCEPTION_ERROR_CODE: u32 = 0x4018;
export const VM_ENTRY_INSTRUCTION_LEN: u32 = 0x401a;
export const TPR_THRESHOLD: u32 = 0x401c;
export const SECONDARY_VM_EXEC_CONTROL: u32 = 0x401e;
export const PLE_GAP: u32 = 0x4020;
export const PLE_WINDOW: u32 = 0x4022;
export const VM_INSTRUCTION_ERROR: u32 = 0x4400;
export const VM_EXIT_REASON: u32 = 0x4402;
export const VM_EXIT_INTR_INFO: u32 = 0x4404;
export const VM_EXIT_INTR_ERROR_CODE: u32 = 0x4406;
export const IDT_VECTORING_INFO: u32 = 0x4408;
export const IDT_VECTORING_ERROR_CODE: u32 = 0x440a;
export const VM_EXIT_INSTRUCTION_LEN: u32 = 0x440c;
export const VMX_INSTRUCTION_INFO: u32 = 0x440e;
export const GUEST_ES_LIMIT: u32 = 0x4800;     // ES .. TR, step 2
export const GUEST_GDTR_LIMIT: u32 = 0x4810;
export const GUEST_IDTR_LIMIT: u32 = 0x4812;
export const GUEST_ES_AR_BYTES: u32 = 0x4814;  // ES .. TR, step 2
export const GUEST_INTERRUPTIBILITY_INFO: u32 = 0x4824;
export const GUEST_ACTIVITY_STATE: u32 = 0x4826;
export const GUEST_SMBASE: u32 = 0x4828;
export const GUEST_SYSENTER_CS: u32 = 0x482a;
export const VMX_PREEMPTION_TIMER_VALUE: u32 = 0x482e;
export const HOST_IA32_SYSENTER_CS: u32 = 0x4c00;
// natural-width fields
export const CR0_GUEST_HOST_MASK: u32 = 0x6000;
export const CR4_GUEST_HOST_MASK: u32 = 0x6002;
export const CR0_READ_SHADOW: u32 = 0x6004;
export const CR4_READ_SHADOW: u32 = 0x6006;
export const CR3_TARGET_VALUE0: u32 = 0x6008;
export const EXIT_QUALIFICATION: u32 = 0x6400;
export const IO_RCX: u32 = 0x6402;
export const IO_RSI: u32 = 0x6404;
export const IO_RDI: u32 = 0x6406;
export const IO_RIP: u32 = 0x6408;
export const GUEST_LINEAR_ADDRESS: u32 = 0x640a;
export const GUEST_CR0: u32 = 0x6800;
export const GUEST_CR3: u32 = 0x6802;
export const GUEST_CR4: u32 = 0x6804;
export const GUEST_ES_BASE: u32 = 0x6806;      // ES .. TR, step 2
export const GUEST_GDTR_BASE: u32 = 0x6816;
export const GUEST_IDTR_BASE: u32 = 0x6818;
export const GUEST_DR7: u32 = 0x681a;
export const GUEST_RSP: u32 = 0x681c;
export const GUEST_RIP: u32 = 0x681e;
export const GUEST_RFLAGS: u32 = 0x6820;
export const GUEST_PENDING_DBG_EXCEPTIONS: u32 = 0x6822;
export const GUEST_SYSENTER_ESP: u32 = 0x6824;
export const GUEST_SYSENTER_EIP: u32 = 0x6826;
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

// Pin-based controls (SDM 25.6.1)
export const PIN_EXT_INTR_EXITING: u32 = 1 << 0;
export const PIN_NMI_EXITING: u32 = 1 << 3;
export const PIN_PREEMPTION_TIMER: u32 = 1 << 6;
// Primary processor-based controls (SDM 25.6.2, Table 25-6)
export const CPU_INTR_WINDOW_EXITING: u32 = 1 << 2;
export const CPU_USE_TSC_OFFSETTING: u32 = 1 << 3;
export const CPU_HLT_EXITING: u32 = 1 << 7;
export const CPU_INVLPG_EXITING: u32 = 1 << 9;
export const CPU_MWAIT_EXITING: u32 = 1 << 10;
export const CPU_RDPMC_EXITING: u32 = 1 << 11;
export const CPU_RDTSC_EXITING: u32 = 1 << 12;
export const CPU_CR3_LOAD_EXITING: u32 = 1 << 15;
export const CPU_CR3_STORE_EXITING: u32 = 1 << 16;
export const CPU_CR8_LOAD_EXITING: u32 = 1 << 19;
export const CPU_CR8_STORE_EXITING: u32 = 1 << 20;
export const CPU_MOV_DR_EXITING: u32 = 1 << 23;
export const CPU_UNCOND_IO_EXITING: u32 = 1 << 24;
export const CPU_USE_IO_BITMAPS: u32 = 1 << 25;
export const CPU_USE_MSR_BITMAPS: u32 = 1 << 28;
export const CPU_MONITOR_TRAP_FLAG: u32 = 1 << 27;
export const CPU_MONITOR_EXITING: u32 = 1 << 29;
export const CPU_PAUSE_EXITING: u32 = 1 << 30;
export const CPU_ACTIVATE_SECONDARY: u32 = 1 << 31;
// Secondary processor-based controls (SDM 25.6.2, Table 25-7)
export const SEC_ENABLE_EPT: u32 = 1 << 1;
export const SEC_DESC_EXITING: u32 = 1 << 2;
export const SEC_ENABLE_RDTSCP: u32 = 1 << 3;
export const SEC_ENABLE_VPID: u32 = 1 << 5;
export const SEC_WBINVD_EXITING: u32 = 1 << 6;
export const SEC_UNRESTRICTED_GUEST: u32 = 1 << 7;
export const SEC_ENABLE_INVPCID: u32 = 1 << 12;
export const SEC_ENABLE_VMFUNC: u32 = 1 << 13;
export const SEC_EPT_VIOLATION_VE: u32 = 1 << 18;
// VM-exit controls (SDM 25.7.1)
export const EXIT_HOST_ADDR_SPACE_SIZE: u32 = 1 << 9;
export const EXIT_ACK_INTR_ON_EXIT: u32 = 1 << 15;
export const EXIT_SAVE_PREEMPTION_TIMER: u32 = 1 << 22;
// VM-entry controls (SDM 25.8.1)
export const ENTRY_IA32E_MODE_GUEST: u32 = 1 << 9;

// Exit reasons (SDM Appendix C)
export const EXIT_REASON_EXCEPTION_NMI: u32 = 0;
export const EXIT_REASON_EXTERNAL_INTERRUPT: u32 = 1;
export const EXIT_REASON_TRIPLE_FAULT: u32 = 2;
export const EXIT_REASON_INTERRUPT_WINDOW: u32 = 7;
export const EXIT_REASON_TASK_SWITCH: u32 = 9;
export const EXIT_REASON_CPUID: u32 = 10;
export const EXIT_REASON_HLT: u32 = 12;
export const EXIT_REASON_INVD: u32 = 13;
export const EXIT_REASON_INVLPG: u32 = 14;
export const EXIT_REASON_RDPMC: u32 = 15;
export const EXIT_REASON_RDTSC: u32 = 16;
export const EXIT_REASON_VMCALL: u32 = 18;
export const EXIT_REASON_VMCLEAR: u32 = 19;
export const EXIT_REASON_VMLAUNCH: u32 = 20;
export const EXIT_REASON_VMPTRLD: u32 = 21;
export const EXIT_REASON_VMPTRST: u32 = 22;
export const EXIT_REASON_VMREAD: u32 = 23;
export const EXIT_REASON_VMRESUME: u32 = 24;
export const EXIT_REASON_VMWRITE: u32 = 25;
export const EXIT_REASON_VMOFF: u32 = 26;
export const EXIT_REASON_VMON: u32 = 27;
export const EXIT_REASON_CR_ACCESS: u32 = 28;
export const EXIT_REASON_DR_ACCESS: u32 = 29;
export const EXIT_REASON_IO_INSTRUCTION: u32 = 30;
export const EXIT_REASON_MSR_READ: u32 = 31;
export const EXIT_REASON_MSR_WRITE: u32 = 32;
export const EXIT_REASON_INVALID_GUEST_STATE: u32 = 33;
export const EXIT_REASON_MWAIT: u32 = 36;
export const EXIT_REASON_MONITOR_TRAP_FLAG: u32 = 37;
/** Not a VMX exit: the host debugger's breakpoint (see vmx.ts); the VMCS exit fields are left alone. */
export { DEBUG_STOP } from "./shared/limits";
export const EXIT_REASON_MONITOR: u32 = 39;
export const EXIT_REASON_PAUSE: u32 = 40;
export const EXIT_REASON_EPT_VIOLATION: u32 = 48;
export const EXIT_REASON_EPT_MISCONFIG: u32 = 49;
export const EXIT_REASON_INVEPT: u32 = 50;
export const EXIT_REASON_RDTSCP: u32 = 51;
export const EXIT_REASON_PREEMPTION_TIMER: u32 = 52;
export const EXIT_REASON_INVVPID: u32 = 53;
export const EXIT_REASON_WBINVD: u32 = 54;
export const EXIT_REASON_XSETBV: u32 = 55;
export const EXIT_REASON_VMFUNC: u32 = 59;
// Bit 31 of the exit reason: VM-entry failure.
export const EXIT_REASON_FAILED_VMENTRY: u32 = 0x80000000;

// Interruption-information types (SDM 25.8.3 / 27.2.2)
export const INTR_TYPE_EXT_INTR: u32 = 0;
export const INTR_TYPE_NMI: u32 = 2;
export const INTR_TYPE_HARD_EXCEPTION: u32 = 3;
export const INTR_TYPE_SOFT_INTR: u32 = 4;
export const INTR_TYPE_PRIV_SW_EXCEPTION: u32 = 5;
export const INTR_TYPE_SOFT_EXCEPTION: u32 = 6;
export const INTR_INFO_DELIVER_CODE: u32 = 1 << 11;
export const INTR_INFO_VALID: u32 = 0x80000000;

@inline export function slotOf(enc: u32): usize {
  return <usize>((((enc >> 13) & 3) << 11) | (((enc >> 10) & 3) << 9) | ((enc >> 1) & 0x1ff));
}
@inline export function widthOf(enc: u32): u32 { return (enc >> 13) & 3; } // 0 16-bit, 1 64-bit, 2 32-bit, 3 natural
@inline export function isReadOnly(enc: u32): bool { return ((enc >> 10) & 3) == 1; }

// Fast access for the CPU itself (no checks: the encoding is a constant).
@inline export function vmcsGet(enc: u32): u64 { return load<u64>(VMCS + (slotOf(enc) << 3)); }
@inline export function vmcsSet(enc: u32, v: u64): void { store<u64>(VMCS + (slotOf(enc) << 3), v); }
@inline export function vmcsGet32(enc: u32): u32 { return <u32>load<u64>(VMCS + (slotOf(enc) << 3)); }

function present(enc: u32): void { store<u8>(VMCS_PRESENT + slotOf(enc), 1); }
function presentRange(first: u32, last: u32): void {
  for (let e = first; e <= last; e += 2) present(e);
}

/** Declares which fields this CPU implements (called once at start). */
export function vmcsInitFields(): void {
  memory.fill(VMCS, 0, 8192 * 8);
  memory.fill(VMCS_PRESENT, 0, 8192);
  presentRange(0x0000, 0x0004);
  presentRange(0x0800, 0x0810);
  presentRange(0x0c00, 0x0c0c);
  presentRange(0x2000, 0x2032);
  present(0x2400);
  presentRange(0x2800, 0x2806);
  presentRange(0x2c00, 0x2c02);
  presentRange(0x4000, 0x4022);
  presentRange(0x4400, 0x440e);
  presentRange(0x4800, 0x482a);
  present(0x482e);
  present(0x4c00);
  presentRange(0x6000, 0x600e);
  presentRange(0x6400, 0x640a);
  presentRange(0x6800, 0x6826);
  presentRange(0x6c00, 0x6c16);
  // Unused encodings inside the ranges above.
  store<u8>(VMCS_PRESENT + slotOf(0x200e), 0);
  store<u8>(VMCS_PRESENT + slotOf(0x2030), 0);
  store<u8>(VMCS_PRESENT + slotOf(0x482c), 0);
  // VMCS link pointer defaults to ~0 (SDM 26.3.1.5).
  vmcsSet(VMCS_LINK_POINTER, 0xffffffffffffffff);
}

export function vmcsFieldExists(enc: u32): bool {
  if (enc > 0x7fff) return false;
  const width = widthOf(enc);
  // "High" access (bit 0) exists only for 64-bit fields.
  if ((enc & 1) != 0 && width != 1) return false;
  return load<u8>(VMCS_PRESENT + slotOf(enc)) != 0;
}

/** VMREAD semantics: a 64-bit field's high access returns bits 63:32. */
export function vmcsRead(enc: u32): u64 {
  const v = load<u64>(VMCS + (slotOf(enc) << 3));
  if ((enc & 1) != 0) return v >> 32;
  return v;
}

/** VMWRITE semantics; returns 0 or the VM-instruction error number (SDM 31.4). */
export function vmcsWrite(enc: u32, value: u64, fromHost: bool): u32 {
  if (!vmcsFieldExists(enc)) return 12; // unsupported VMCS component
  if (isReadOnly(enc) && !fromHost) return 13; // VMWRITE to read-only component
  const slot = VMCS + (slotOf(enc) << 3);
  const width = widthOf(enc);
  if ((enc & 1) != 0) {
    store<u64>(slot, (load<u64>(slot) & 0xffffffff) | (value << 32));
  } else if (width == 0) {
    store<u64>(slot, value & 0xffff);
  } else if (width == 2) {
    store<u64>(slot, value & 0xffffffff);
  } else {
    store<u64>(slot, value);
  }
  return 0;
}
