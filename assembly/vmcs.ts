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
