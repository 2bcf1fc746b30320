// The VM-execution controls an instruction consults before it runs or exits (SDM Vol. 3C 25.6.2:
// primary and secondary processor-based controls). The secondary controls count only when the
// primary "activate secondary controls" bit is set (SDM 25.6.2, Table 25-6).
import * as V from "../vmcs";

@inline export function primary(): u32 { return V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL); }
@inline export function secondary(): u32 {
  const p = primary();
  return (p & V.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) != 0 ? V.vmcsGet32(V.SECONDARY_VM_EXEC_CONTROL) : 0;
}
