// VMFUNC (SDM Vol. 3C 26.5.6 and the VMFUNC instruction page): leaf 0, EPTP switching, loads a new
// EPT pointer from the EPTP list without a VM exit. The TLB keeps each view's entries apart (SDM
// 29.4.1: combined mappings are tagged by EP4TA), so a switch flushes nothing.
import * as V from "./vmcs";
import { gpr, RAX, RCX } from "./state";
import { raiseUD, requestExit } from "./fault";
import { physRead64, machineSize, selectView } from "./mmu";
import { eptpValid, eptSetPointer } from "./ept";
import { secondary } from "./vmx/controls";

/**
 * #UD unless VM functions are enabled and EAX < 64; exit 59 when the function is
 * not enabled in the VM-function controls, ECX >= 512, or the list entry is not a
 * valid EPTP; otherwise leaf 0 loads the EPTP from the list.
 */
export function execVmfunc(): void {
  const leaf = gpr(RAX) & 0xffffffff;
  if ((secondary() & V.SECONDARY_EXEC_ENABLE_VMFUNC) == 0 || leaf >= 64) { raiseUD(); return; }
  if (((V.vmcsGet(V.VM_FUNCTION_CONTROL) >> leaf) & 1) == 0 || leaf != 0) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const index = gpr(RCX) & 0xffffffff;
  if (index >= 512) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const listAddr = V.vmcsGet(V.EPTP_LIST_ADDR) & ~(<u64>0xfff);
  if (listAddr + 4096 > machineSize) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  const next = physRead64(listAddr + (index << 3));
  if (!eptpValid(next)) { requestExit(V.EXIT_REASON_VMFUNC, 0); return; }
  V.vmcsSet(V.EPT_POINTER, next);
  V.vmcsSet(V.EPTP_INDEX, index);
  eptSetPointer(next);
  selectView(); // the new view's TLB entries are tagged apart: no flush
}
