// Event delivery in VMX non-root operation: whether an exception VM-exits through the exception
// bitmap (SDM Vol. 3C 25.2 / 25.6.3, with the #PF error-code mask and match), the double-fault
// rules for a fault during delivery (SDM Vol. 3A Table 6-5), and the IDT-vectoring information an
// exit during delivery reports (SDM 28.2.4). The IDT walk itself is events.ts.
import * as V from "../vmcs";
import * as S from "../state";
import { stop, faultVec, faultErr, faultHasErr, faultCr2, exitReq, exitQual, clearStop } from "../fault";
import { inDelivery } from "../ept";
import { idtDeliver, vectoring, vectoringErr } from "../events";
import { vmExit } from "./exit";

// Exception classes for the double-fault rules.
@inline function isContributory(v: i32): bool { return v == 0 || (v >= 10 && v <= 13); }

/** Exception bitmap check, with the #PF error-code mask/match rule (SDM 25.6.3). */
function exceptionExits(vec: i32, err: u32): bool {
  const bitmap = V.vmcsGet32(V.EXCEPTION_BITMAP);
  let bit = ((bitmap >> <u32>vec) & 1) != 0;
  if (vec == 14) {
    const m = V.vmcsGet32(V.PAGE_FAULT_ERROR_CODE_MASK), match = V.vmcsGet32(V.PAGE_FAULT_ERROR_CODE_MATCH);
    if ((err & m) != match) bit = !bit;
  }
  return bit;
}

/**
 * Delivers an event (exception, software interrupt, injected interrupt),
 * applying the VM-exit checks and the double-fault rules. Returns true when a
 * VM exit resulted. An event injected by VM entry (`injected`) is delivered
 * without consulting the exception bitmap (SDM Vol. 3C 26.6.1.2: VM entry
 * delivers it as if it occurred in the guest, and it causes no VM exit by
 * itself); a fault while delivering it is subject to the bitmap as any other.
 */
export function deliver(vec0: i32, type0: u32, err0: u32, hasErr0: bool, retRip: u64, instrLen: u32, cr2val: u64,
    injected: bool = false): bool {
  let vec = vec0, type = type0, err = err0, hasErr = hasErr0, faultAddr = cr2val;
  let checkBitmap = !injected;
  vectoring = 0; vectoringErr = 0;
  while (true) {
    const isException = type == 3 || type == 5 || type == 6;
    if (isException && checkBitmap && exceptionExits(vec, err)) {
      V.vmcsSet(V.VM_EXIT_INTR_INFO, <u64>(<u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE_MASK : 0) | V.INTR_INFO_VALID_MASK));
      V.vmcsSet(V.VM_EXIT_INTR_ERROR_CODE, <u64>err);
      // The exit qualification: CR2's value for #PF, the DR6 bits for #DB (passed as cr2val; SDM 28.2.1).
      vmExit(V.EXIT_REASON_EXCEPTION_NMI, vec == 14 || vec == 1 ? faultAddr : 0, type == 6 || type == 5 ? instrLen : 0);
      return true;
    }
    if (vec == 14 && type == 3) S.cr2 = faultAddr;
    clearStop();
    inDelivery = true;
    idtDeliver(vec, type, err, hasErr, type == 3 ? S.rip : retRip);
    inDelivery = false;
    if (!stop) { vectoring = 0; return false; }
    if (exitReq >= 0) {
      // An EPT violation or misconfiguration while delivering: the exit reports the event (SDM 28.2.4).
      vectoring = <u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE_MASK : 0) | V.INTR_INFO_VALID_MASK;
      vectoringErr = err;
      const reason = <u32>exitReq, q = exitQual;
      clearStop();
      vmExit(reason, q, 0);
      return true;
    }
    // A fault while delivering: the double-fault rules (SDM Table 6-5); it is subject to the bitmap.
    checkBitmap = true;
    const second = faultVec;
    const secondErr = faultErr, secondHasErr = faultHasErr, secondCr2 = faultCr2;
    vectoring = <u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE_MASK : 0) | V.INTR_INFO_VALID_MASK;
    vectoringErr = err;
    clearStop();
    if (vec == 8 && type == 3) {
      vmExit(V.EXIT_REASON_TRIPLE_FAULT, 0, 0);
      return true;
    }
    if ((isContributory(vec) && type == 3 && isContributory(second)) ||
        (vec == 14 && type == 3 && (second == 14 || isContributory(second)))) {
      vec = 8; type = 3; err = 0; hasErr = true;
    } else {
      vec = second; type = 3; err = secondErr; hasErr = secondHasErr; faultAddr = secondCr2;
    }
  }
}
