// VM exits (SDM Vol. 3C ch. 28, "VM Exits"): saving the guest state into the VMCS guest-state
// area (28.3) and writing the exit-information fields (28.2). What causes an exit is decided where
// the cause is modelled (the instruction's file, event delivery, the run loop); this file only
// records it. Exits do not load host state here: the host is the TypeScript hypervisor.
import * as V from "../vmcs";
import * as S from "../state";
import { getRflags } from "../flags";
import { vectoring, vectoringErr } from "../events";

/** The basic exit reason vmresume returns (bit 31 set on a failed VM entry). */
export let exitReasonOut: u32 = 0;

/** Records a VM exit: the basic reason and the exit-information fields (SDM 28.2). */
export function vmExit(reason: u32, qual: u64, instrLen: u32): void {
  exitReasonOut = reason;
  V.vmcsSet(V.VM_EXIT_REASON, <u64>reason);
  V.vmcsSet(V.EXIT_QUALIFICATION, qual);
  V.vmcsSet(V.VM_EXIT_INSTRUCTION_LEN, <u64>instrLen);
  V.vmcsSet(V.IDT_VECTORING_INFO_FIELD, <u64>vectoring);
  V.vmcsSet(V.IDT_VECTORING_ERROR_CODE, <u64>vectoringErr);
  // Every VM exit clears the valid bit of the VM-entry interruption information.
  V.vmcsSet(V.VM_ENTRY_INTR_INFO_FIELD, V.vmcsGet(V.VM_ENTRY_INTR_INFO_FIELD) & 0x7fffffff);
}

/** Segment register `s` (VMCS order) into the guest-state area. */
@inline function saveSeg(s: i32): void {
  const i = <u32>s << 1;
  V.vmcsSet(V.GUEST_ES_SELECTOR + i, <u64>S.segSel(s));
  V.vmcsSet(V.GUEST_ES_BASE + i, S.segBase(s));
  V.vmcsSet(V.GUEST_ES_LIMIT + i, <u64>S.segLimit(s));
  V.vmcsSet(V.GUEST_ES_AR_BYTES + i, <u64>S.segAr(s));
}

/** Saves the guest state (SDM 28.3). */
export function saveGuestState(): void {
  V.vmcsSet(V.GUEST_CR0, S.cr0); V.vmcsSet(V.GUEST_CR3, S.cr3); V.vmcsSet(V.GUEST_CR4, S.cr4);
  V.vmcsSet(V.GUEST_IA32_EFER, S.efer);
  // Unrolled, as loadGuestState (vmx/entry.ts): constant addresses throughout.
  saveSeg(0); saveSeg(1); saveSeg(2); saveSeg(3); saveSeg(4); saveSeg(5); saveSeg(6); saveSeg(7);
  V.vmcsSet(V.GUEST_GDTR_BASE, S.gdtrBase); V.vmcsSet(V.GUEST_GDTR_LIMIT, <u64>S.gdtrLimit);
  V.vmcsSet(V.GUEST_IDTR_BASE, S.idtrBase); V.vmcsSet(V.GUEST_IDTR_LIMIT, <u64>S.idtrLimit);
  V.vmcsSet(V.GUEST_DR7, S.dr7);
  V.vmcsSet(V.GUEST_RSP, S.gpr(S.RSP));
  V.vmcsSet(V.GUEST_RIP, S.rip);
  V.vmcsSet(V.GUEST_RFLAGS, getRflags());
  V.vmcsSet(V.GUEST_IA32_PAT, S.msrPat);
  V.vmcsSet(V.GUEST_SYSENTER_CS, S.msrSysenterCs);
  V.vmcsSet(V.GUEST_SYSENTER_ESP, S.msrSysenterEsp);
  V.vmcsSet(V.GUEST_SYSENTER_EIP, S.msrSysenterEip);
  V.vmcsSet(V.GUEST_INTERRUPTIBILITY_INFO, <u64>S.intrShadow);
  V.vmcsSet(V.GUEST_PENDING_DBG_EXCEPTIONS, S.pendingDbg); // a held-back single-step #DB (28.3.4)
  V.vmcsSet(V.GUEST_ACTIVITY_STATE, S.halted ? 1 : 0);
}
