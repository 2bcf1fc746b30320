// The VMCS: field storage addressed only by the SDM's field encodings
// (Vol. 3C, Appendix B "Field Encoding in VMCS"). An encoding packs
// access type (bit 0), index (9:1), type (11:10) and width (14:13); we use
// width:type:index as the slot number, so every architectural field has a slot.
import { VMCS, VMCS_PRESENT } from "./layout";
import * as F from "./shared/vmcs-fields";

// The facts the host shares (assembly/shared/): field encodings, control bits, exit reasons.
export * from "./shared/vmcs-fields";
export * from "./shared/vmx-controls";
export * from "./shared/exit-reasons";
/** Not a VMX exit: the host debugger's breakpoint (see vmx.ts); the VMCS exit fields are left alone. */
export { DEBUG_STOP } from "./shared/limits";

// The CPU's older spellings of shared names, kept so the CPU's other files compile unchanged while
// they move to the shared (Linux/Xen) names.
export {
  VM_ENTRY_INTR_INFO_FIELD as VM_ENTRY_INTR_INFO, IDT_VECTORING_INFO_FIELD as IDT_VECTORING_INFO,
} from "./shared/vmcs-fields";
export {
  PIN_BASED_EXT_INTR_MASK as PIN_EXT_INTR_EXITING, PIN_BASED_NMI_EXITING as PIN_NMI_EXITING,
  PIN_BASED_VMX_PREEMPTION_TIMER as PIN_PREEMPTION_TIMER,
  CPU_BASED_INTR_WINDOW_EXITING as CPU_INTR_WINDOW_EXITING, CPU_BASED_USE_TSC_OFFSETTING as CPU_USE_TSC_OFFSETTING,
  CPU_BASED_HLT_EXITING as CPU_HLT_EXITING, CPU_BASED_INVLPG_EXITING as CPU_INVLPG_EXITING,
  CPU_BASED_MWAIT_EXITING as CPU_MWAIT_EXITING, CPU_BASED_RDPMC_EXITING as CPU_RDPMC_EXITING,
  CPU_BASED_RDTSC_EXITING as CPU_RDTSC_EXITING, CPU_BASED_CR3_LOAD_EXITING as CPU_CR3_LOAD_EXITING,
  CPU_BASED_CR3_STORE_EXITING as CPU_CR3_STORE_EXITING, CPU_BASED_CR8_LOAD_EXITING as CPU_CR8_LOAD_EXITING,
  CPU_BASED_CR8_STORE_EXITING as CPU_CR8_STORE_EXITING, CPU_BASED_MOV_DR_EXITING as CPU_MOV_DR_EXITING,
  CPU_BASED_UNCOND_IO_EXITING as CPU_UNCOND_IO_EXITING, CPU_BASED_USE_IO_BITMAPS as CPU_USE_IO_BITMAPS,
  CPU_BASED_USE_MSR_BITMAPS as CPU_USE_MSR_BITMAPS, CPU_BASED_MONITOR_TRAP_FLAG as CPU_MONITOR_TRAP_FLAG,
  CPU_BASED_MONITOR_EXITING as CPU_MONITOR_EXITING, CPU_BASED_PAUSE_EXITING as CPU_PAUSE_EXITING,
  CPU_BASED_ACTIVATE_SECONDARY_CONTROLS as CPU_ACTIVATE_SECONDARY,
  SECONDARY_EXEC_ENABLE_EPT as SEC_ENABLE_EPT, SECONDARY_EXEC_DESC as SEC_DESC_EXITING,
  SECONDARY_EXEC_ENABLE_RDTSCP as SEC_ENABLE_RDTSCP, SECONDARY_EXEC_ENABLE_VPID as SEC_ENABLE_VPID,
  SECONDARY_EXEC_WBINVD_EXITING as SEC_WBINVD_EXITING, SECONDARY_EXEC_UNRESTRICTED_GUEST as SEC_UNRESTRICTED_GUEST,
  SECONDARY_EXEC_ENABLE_INVPCID as SEC_ENABLE_INVPCID, SECONDARY_EXEC_ENABLE_VMFUNC as SEC_ENABLE_VMFUNC,
  SECONDARY_EXEC_EPT_VIOLATION_VE as SEC_EPT_VIOLATION_VE,
  VM_EXIT_HOST_ADDR_SPACE_SIZE as EXIT_HOST_ADDR_SPACE_SIZE, VM_EXIT_ACK_INTR_ON_EXIT as EXIT_ACK_INTR_ON_EXIT,
  VM_EXIT_SAVE_VMX_PREEMPTION_TIMER as EXIT_SAVE_PREEMPTION_TIMER, VM_ENTRY_IA32E_MODE as ENTRY_IA32E_MODE_GUEST,
  INTR_INFO_DELIVER_CODE_MASK as INTR_INFO_DELIVER_CODE, INTR_INFO_VALID_MASK as INTR_INFO_VALID,
} from "./shared/vmx-controls";
export {
  EXIT_REASON_PENDING_VIRT_INTR as EXIT_REASON_INTERRUPT_WINDOW, EXIT_REASON_VMXOFF as EXIT_REASON_VMOFF,
  EXIT_REASON_VMXON as EXIT_REASON_VMON, EXIT_REASON_MWAIT_INSTRUCTION as EXIT_REASON_MWAIT,
  EXIT_REASON_MONITOR_INSTRUCTION as EXIT_REASON_MONITOR, EXIT_REASON_PAUSE_INSTRUCTION as EXIT_REASON_PAUSE,
  EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED as EXIT_REASON_PREEMPTION_TIMER,
  VMX_EXIT_REASONS_FAILED_VMENTRY as EXIT_REASON_FAILED_VMENTRY,
} from "./shared/exit-reasons";

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
  // Each width:type group of Appendix B is allocated densely, so a group is a range of encodings.
  presentRange(F.VIRTUAL_PROCESSOR_ID, F.EPTP_INDEX);
  presentRange(F.GUEST_ES_SELECTOR, F.GUEST_INTR_STATUS);
  presentRange(F.HOST_ES_SELECTOR, F.HOST_TR_SELECTOR);
  presentRange(F.IO_BITMAP_A, F.TSC_MULTIPLIER);
  present(F.GUEST_PHYSICAL_ADDRESS);
  presentRange(F.VMCS_LINK_POINTER, F.GUEST_IA32_EFER);
  presentRange(F.HOST_IA32_PAT, F.HOST_IA32_EFER);
  presentRange(F.PIN_BASED_VM_EXEC_CONTROL, F.PLE_WINDOW);
  presentRange(F.VM_INSTRUCTION_ERROR, F.VMX_INSTRUCTION_INFO);
  presentRange(F.GUEST_ES_LIMIT, F.GUEST_SYSENTER_CS);
  present(F.VMX_PREEMPTION_TIMER_VALUE);
  present(F.HOST_IA32_SYSENTER_CS);
  presentRange(F.CR0_GUEST_HOST_MASK, F.CR3_TARGET_VALUE3);
  presentRange(F.EXIT_QUALIFICATION, F.GUEST_LINEAR_ADDRESS);
  presentRange(F.GUEST_CR0, F.GUEST_SYSENTER_EIP);
  presentRange(F.HOST_CR0, F.HOST_RIP);
  // Inside those ranges, fields this CPU lacks: the PML address (0x200e), the sub-page-permission-table
  // pointer (0x2030) and an encoding the SDM leaves unused (0x482c).
  store<u8>(VMCS_PRESENT + slotOf(0x200e), 0);
  store<u8>(VMCS_PRESENT + slotOf(0x2030), 0);
  store<u8>(VMCS_PRESENT + slotOf(0x482c), 0);
  // VMCS link pointer defaults to ~0 (SDM 26.3.1.5).
  vmcsSet(F.VMCS_LINK_POINTER, 0xffffffffffffffff);
}

export function vmcsFieldExists(enc: u32): bool {
  if ((enc & ~0x6fff) != 0) return false; // bits 31:15 and 12 are reserved (Appendix B.1)
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
