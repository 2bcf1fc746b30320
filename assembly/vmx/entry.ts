// VM entry (SDM Vol. 3C ch. 26, "VM Entries"): the checks on the guest state this CPU can run
// (26.3.1), loading the guest state from the VMCS (26.3.2), the EPT controls and the VMX-preemption
// timer, and event injection (26.6). Only IA-32e guests with paging are modelled; a guest the CPU
// cannot run fails the entry with exit reason 33 (bit 31 set), as a real CPU would.
import * as V from "../vmcs";
import * as S from "../state";
import { clearStop } from "../fault";
import { tlbSelect, selectView } from "../mmu";
import { eptLoad } from "../ept";
import { getRflags, setRflags } from "../flags";
import { vectoring, vectoringErr } from "../events";
import { setCpl } from "../segment";
import { exitReasonOut, vmExit } from "./exit";
import { deliver } from "./deliver";

/** vmEntry's outcomes. */
export const ENTRY_FAILED = 0; // VM-entry failure: exitReasonOut holds it, no guest state is saved
export const ENTRY_EXITED = 1; // entered, and an exit happened at once (injection, HLT state)
export const ENTRY_RUN = 2;    // the guest runs

/** Virtual cycle at which the VMX-preemption timer fires (all ones: the timer is off). */
export let timerDeadline: u64 = 0xffffffffffffffff;

/** Segment register `s` (VMCS order: ES CS SS DS FS GS LDTR TR) from the guest-state area. */
@inline function loadSeg(s: i32): void {
  const i = <u32>s << 1;
  S.setSegSel(s, <u16>V.vmcsGet(V.GUEST_ES_SELECTOR + i));
  S.setSegBase(s, V.vmcsGet(V.GUEST_ES_BASE + i));
  S.setSegLimit(s, V.vmcsGet32(V.GUEST_ES_LIMIT + i));
  S.setSegAr(s, V.vmcsGet32(V.GUEST_ES_AR_BYTES + i));
}

export function loadGuestState(): void {
  S.cr0 = V.vmcsGet(V.GUEST_CR0); S.cr3 = V.vmcsGet(V.GUEST_CR3); S.cr4 = V.vmcsGet(V.GUEST_CR4);
  S.efer = V.vmcsGet(V.GUEST_IA32_EFER);
  // Unrolled: with constant segment numbers every VMCS slot and register address is a constant
  // (the loop took half of a VM entry's time).
  loadSeg(0); loadSeg(1); loadSeg(2); loadSeg(3); loadSeg(4); loadSeg(5); loadSeg(6); loadSeg(7);
  S.gdtrBase = V.vmcsGet(V.GUEST_GDTR_BASE); S.gdtrLimit = V.vmcsGet32(V.GUEST_GDTR_LIMIT);
  S.idtrBase = V.vmcsGet(V.GUEST_IDTR_BASE); S.idtrLimit = V.vmcsGet32(V.GUEST_IDTR_LIMIT);
  S.dr7 = V.vmcsGet(V.GUEST_DR7);
  S.setGpr(S.RSP, V.vmcsGet(V.GUEST_RSP));
  S.rip = V.vmcsGet(V.GUEST_RIP);
  setRflags(V.vmcsGet(V.GUEST_RFLAGS));
  S.msrPat = V.vmcsGet(V.GUEST_IA32_PAT);
  S.msrSysenterCs = V.vmcsGet(V.GUEST_SYSENTER_CS);
  S.msrSysenterEsp = V.vmcsGet(V.GUEST_SYSENTER_ESP);
  S.msrSysenterEip = V.vmcsGet(V.GUEST_SYSENTER_EIP);
  const intr = V.vmcsGet32(V.GUEST_INTERRUPTIBILITY_INFO);
  S.intrShadow = intr & 3; S.shadowAge = S.intrShadow != 0 ? 1 : 0;
  S.pendingDbg = V.vmcsGet(V.GUEST_PENDING_DBG_EXCEPTIONS) & S.DR6_BS; // only BS is modelled
  setCpl(<i32>((S.segAr(S.SS) >> 5) & 3));
}

// ---- interrupt injection on VM entry (SDM 26.6) -------------------------------
function injectOnEntry(): bool {
  const info = V.vmcsGet32(V.VM_ENTRY_INTR_INFO_FIELD);
  if ((info & V.INTR_INFO_VALID_MASK) == 0) return false;
  const vec = <i32>(info & 0xff), type = (info >> 8) & 7;
  const hasErr = (info & V.INTR_INFO_DELIVER_CODE_MASK) != 0;
  const len = V.vmcsGet32(V.VM_ENTRY_INSTRUCTION_LEN);
  const retRip = (type == 4 || type == 5 || type == 6) ? S.rip + <u64>len : S.rip;
  const exited = deliver(vec, type == 2 ? 3 : type, V.vmcsGet32(V.VM_ENTRY_EXCEPTION_ERROR_CODE), hasErr, retRip, len, S.cr2, true);
  V.vmcsSet(V.VM_ENTRY_INTR_INFO_FIELD, <u64>(info & 0x7fffffff));
  S.intrShadow = 0;
  return exited;
}

/** VMRESUME up to the first instruction: checks, guest state, EPT, timer, injection. */
export function vmEntry(): i32 {
  clearStop();
  exitReasonOut = 0xffffffff;
  vectoring = 0; vectoringErr = 0;
  V.vmcsSet(V.VM_EXIT_INTR_INFO, 0);
  V.vmcsSet(V.VM_EXIT_INTR_ERROR_CODE, 0);
  V.vmcsSet(V.EXIT_QUALIFICATION, 0);
  loadGuestState();
  // Checks on the guest state this CPU can run (SDM 26.3.1): IA-32e mode with paging, 64-bit CS.
  const entryCtl = V.vmcsGet32(V.VM_ENTRY_CONTROLS);
  if ((entryCtl & V.VM_ENTRY_IA32E_MODE) == 0 || (S.cr0 & S.CR0_PG) == 0 || (S.cr4 & S.CR4_PAE) == 0 ||
      (S.efer & S.EFER_LMA) == 0 || (S.segAr(S.CS) & 0x2000) == 0) {
    exitReasonOut = V.VMX_EXIT_REASONS_FAILED_VMENTRY | V.EXIT_REASON_INVALID_GUEST_STATE;
    V.vmcsSet(V.VM_EXIT_REASON, <u64>exitReasonOut);
    V.vmcsSet(V.EXIT_QUALIFICATION, 0);
    return ENTRY_FAILED;
  }
  // Injecting an external interrupt needs RFLAGS.IF = 1 and no STI/MOV-SS blocking (SDM 26.3.1.5).
  const inj = V.vmcsGet32(V.VM_ENTRY_INTR_INFO_FIELD);
  if ((inj & V.INTR_INFO_VALID_MASK) != 0 && (inj & V.INTR_INFO_INTR_TYPE_MASK) == V.INTR_TYPE_EXT_INTR &&
      ((getRflags() & S.F_IF) == 0 || (V.vmcsGet32(V.GUEST_INTERRUPTIBILITY_INFO) & 3) != 0)) {
    exitReasonOut = V.VMX_EXIT_REASONS_FAILED_VMENTRY | V.EXIT_REASON_INVALID_GUEST_STATE;
    V.vmcsSet(V.VM_EXIT_REASON, <u64>exitReasonOut);
    return ENTRY_FAILED;
  }
  // Pending debug exceptions (SDM 26.3.1.5): with blocking by STI or MOV SS, or activity state HLT,
  // BS must be 1 when RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0, and 0 otherwise. Only BS is modelled.
  const intr = V.vmcsGet32(V.GUEST_INTERRUPTIBILITY_INFO);
  const bs = (V.vmcsGet(V.GUEST_PENDING_DBG_EXCEPTIONS) & S.DR6_BS) != 0;
  if ((intr & 3) != 0 || V.vmcsGet32(V.GUEST_ACTIVITY_STATE) == 1) {
    const stepping = (getRflags() & S.F_TF) != 0 && (V.vmcsGet(V.GUEST_IA32_DEBUGCTL) & 2) == 0;
    if (stepping != bs) {
      exitReasonOut = V.VMX_EXIT_REASONS_FAILED_VMENTRY | V.EXIT_REASON_INVALID_GUEST_STATE;
      V.vmcsSet(V.VM_EXIT_REASON, <u64>exitReasonOut);
      return ENTRY_FAILED;
    }
  }
  S.halted = V.vmcsGet32(V.GUEST_ACTIVITY_STATE) == 1;
  tlbSelect();
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  eptLoad((prim & V.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) != 0 ? V.vmcsGet32(V.SECONDARY_VM_EXEC_CONTROL) : 0);
  selectView();
  const pin = V.vmcsGet32(V.PIN_BASED_VM_EXEC_CONTROL);
  const timerOn = (pin & V.PIN_BASED_VMX_PREEMPTION_TIMER) != 0;
  // The preemption timer counts down at the TSC rate (IA32_VMX_MISC[4:0] = 0: no divider), so a
  // hypervisor can arm it for an exact virtual time and re-arm it without rounding.
  timerDeadline = timerOn ? S.vcycles + <u64>V.vmcsGet32(V.VMX_PREEMPTION_TIMER_VALUE) : 0xffffffffffffffff;
  // An injected event goes first; the pending single-step #DB is then dropped (the event's handler
  // runs with TF clear). Otherwise a pending #DB is delivered right after entry, before the first
  // instruction -- unless MOV SS blocks it, when it comes after that instruction (SDM 27.7.3).
  if ((V.vmcsGet32(V.VM_ENTRY_INTR_INFO_FIELD) & V.INTR_INFO_VALID_MASK) != 0) S.pendingDbg = 0;
  if (injectOnEntry()) { S.halted = false; return ENTRY_EXITED; }
  if (S.pendingDbg != 0 && (intr & 2) == 0) {
    S.pendingDbg = 0;
    S.halted = false; // the #DB ends the HLT state
    const exited = deliver(1, 3, 0, false, S.rip, 0, S.DR6_BS);
    if (exited) return ENTRY_EXITED;
    S.dr6 |= S.DR6_BS;
  }
  if (S.halted && (V.vmcsGet32(V.VM_ENTRY_INTR_INFO_FIELD) & V.INTR_INFO_VALID_MASK) == 0) {
    // HLT activity state: time passes until the preemption timer fires.
    if (timerOn && timerDeadline > S.vcycles) S.vcycles = timerDeadline;
    vmExit(V.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, 0, 0);
    return ENTRY_EXITED;
  }
  return ENTRY_RUN;
}
