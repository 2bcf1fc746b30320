// The paper's VMFUNC awareness module: inside the RDTSC (and RDTSCP) exit
// handler, read which EPT view the guest is on -- the EPTP index field when
// #VE is enabled, otherwise by matching EPT_POINTER against the EPTP list --
// and if it is a mirror index 10+k, switch the vCPU back to view k (the view
// the mirror stands for) and raise a VMI request carrying k as its parameter.
import type { Machine } from '../machine.js';
import { SECONDARY_EXEC_EPT_VIOLATION_VE, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, VMCS_FIELDS as F } from '../vmcs.js';
import { Altp2m, VMI_MIRROR_BASE } from './altp2m.js';

export interface VmiRequest {
  domid: number;
  vcpu: number;
  /** The EPTP-list index the guest switched to with VMFUNC (10 + parameter). */
  eptpIndex: number;
  parameter: number;
  rip: bigint;
  cr3: bigint;
  /** Virtual TSC of detection (the hypervisor's clock). */
  tsc: bigint;
}

/** The EPTP-list index the vCPU is on, as the RDTSC handler reads it. */
export function currentEptpIndex(m: Machine, altp2m: Altp2m): number | undefined {
  const primary = m.vmread32(F.CPU_BASED_VM_EXEC_CONTROL);
  const secondary = primary & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? m.vmread32(F.SECONDARY_VM_EXEC_CONTROL) : 0;
  if (secondary & SECONDARY_EXEC_EPT_VIOLATION_VE) return m.vmread32(F.EPTP_INDEX);
  return altp2m.indexOfEptp(m.vmread(F.EPT_POINTER));
}

/**
 * Called from the RDTSC/RDTSCP exit handler, before any view bookkeeping:
 * returns the VMI request if the guest is on a mirror view, after writing the
 * normal view's EPTP (and index) back into the VMCS.
 */
export function checkVmiRequest(m: Machine, altp2m: Altp2m, domid: number, vcpu: number, tsc: bigint): VmiRequest | undefined {
  const index = currentEptpIndex(m, altp2m);
  if (index === undefined || !altp2m.isRequestIndex(index)) return undefined;
  const k = index - VMI_MIRROR_BASE;
  m.vmwrite(F.EPT_POINTER, altp2m.eptp(k)!);
  m.vmwrite(F.EPTP_INDEX, k);
  return { domid, vcpu, eptpIndex: index, parameter: k, rip: m.vmread(F.GUEST_RIP), cr3: m.vmread(F.GUEST_CR3), tsc };
}

/** The trace record data of a request (TRC_VMI_REQUEST, see trace-events.ts). */
export function vmiRequestTraceData(r: VmiRequest): number[] {
  const lo = (v: bigint) => Number(v & 0xffffffffn), hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  return [(r.domid & 0xffff) | ((r.vcpu & 0xffff) << 16), (r.eptpIndex & 0xffff) | ((r.parameter & 0xffff) << 16),
    lo(r.rip), hi(r.rip), lo(r.cr3), hi(r.cr3)];
}

/** Parses a TRC_VMI_REQUEST record back (Dom0's side). */
export function parseVmiRequest(data: readonly number[], tsc: bigint | undefined): VmiRequest {
  const b = (lo: number, hi: number) => BigInt(lo >>> 0) | (BigInt(hi >>> 0) << 32n);
  return { domid: data[0] & 0xffff, vcpu: data[0] >>> 16, eptpIndex: data[1] & 0xffff, parameter: data[1] >>> 16,
    rip: b(data[2], data[3]), cr3: b(data[4], data[5]), tsc: tsc ?? 0n };
}
