// Extended page tables (SDM Vol. 3C 29.3): guest-physical -> host-physical,
// EPT violations (exit 48) and misconfigurations (exit 49) with the exit
// qualification of Table 28-7, accessed/dirty flags, and the conversion of
// violations into virtualization exceptions (#VE, SDM 26.5.7 / 27.5.2).
import * as V from "./vmcs";
import { MACHINE_BASE } from "./layout";
import { stop, raise, requestExit, exitReq, exitQual, clearStop } from "./fault";

export let eptOn: bool = false;
export let eptp: u64 = 0;
export let eptAD: bool = false;
let eptRoot: u64 = 0;
export let veOn: bool = false;
/** Set while the CPU delivers an event: a violation then cannot become a #VE (SDM 26.5.7.1). */
export let inDelivery: bool = false;

const PHYS_MASK: u64 = 0x00003ffffffff000; // MAXPHYADDR 46
const ADDR_RSVD: u64 = 0x000fc00000000000; // bits 51:46

// A #VE pending from the last violation (the caller raises vector 20).
export let veQual: u64 = 0;

/** EPTP validity (SDM 26.2.1.1 / VMFUNC checks): memory type UC or WB, 4-level walk, reserved bits clear. */
export function eptpValid(v: u64): bool {
  const mt = v & 7;
  if (mt != 0 && mt != 6) return false;
  if (((v >> 3) & 7) != 3) return false;
  if ((v & 0xf80) != 0) return false;            // bits 11:7 reserved
  if ((v & ~(<u64>0xfff) & ~PHYS_MASK) != 0) return false;
  return true;
}

/** Loads the EPT controls at VM entry (and after VMFUNC switches the pointer). */
export function eptLoad(secondary: u32): void {
  eptOn = (secondary & V.SECONDARY_EXEC_ENABLE_EPT) != 0;
  veOn = eptOn && (secondary & V.SECONDARY_EXEC_EPT_VIOLATION_VE) != 0;
  eptSetPointer(V.vmcsGet(V.EPT_POINTER));
}
export function eptSetPointer(v: u64): void {
  eptp = v; eptRoot = v & PHYS_MASK; eptAD = (v & 0x40) != 0;
}

@inline function phys64(hpa: u64): u64 { return load<u64>(MACHINE_BASE + <usize>hpa); }
@inline function setPhys64(hpa: u64, v: u64): void { store<u64>(MACHINE_BASE + <usize>hpa, v); }

// Kinds (as mmu.ts): 0 read, 1 write, 2 fetch.
/**
 * Translates a guest-physical address through the active EPT. On a violation
 * or misconfiguration it requests the VM exit (or raises #VE) and returns ~0.
 * `paging` marks an access to a guest paging structure.
 */
export function eptTranslate(gpa: u64, kind: i32, la: u64, laValid: bool, paging: bool, machineSize: u64): u64 {
  // With A/D flags for EPT on, guest paging-structure accesses count as writes (SDM 29.3.5).
  const k = paging && eptAD ? 1 : kind;
  let table = eptRoot;
  let allow: u64 = 7;
  let level = 4;
  let entry: u64 = 0, entryAddr: u64 = 0;
  let used0: u64 = 0, used1: u64 = 0, used2: u64 = 0, used3: u64 = 0;
  let nUsed = 0;
  while (true) {
    entryAddr = table + (((gpa >> (12 + 9 * <u64>(level - 1))) & 511) << 3);
    if (entryAddr + 8 > machineSize) { misconfig(gpa); return 0xffffffffffffffff; }
    entry = phys64(entryAddr);
    if (nUsed == 0) used0 = entryAddr; else if (nUsed == 1) used1 = entryAddr; else if (nUsed == 2) used2 = entryAddr; else used3 = entryAddr;
    nUsed++;
    const perm = entry & 7;
    if (perm == 0) { // not present
      violation(gpa, kind, la, laValid, paging, 0, entry); return 0xffffffffffffffff;
    }
    // Misconfigurations (SDM 29.3.3.1): write without read, reserved bits, bad memory types.
    const leaf = level == 1 || ((level == 2 || level == 3) && (entry & 0x80) != 0);
    let bad = (perm & 3) == 2 || (entry & ADDR_RSVD) != 0;
    if (level == 4 && (entry & 0x80) != 0) bad = true;
    if (leaf) {
      const mt = (entry >> 3) & 7;
      if (mt == 2 || mt == 3 || mt == 7) bad = true;
      if (level == 3 && (entry & 0x3ffff000) != 0) bad = true;
      if (level == 2 && (entry & 0x1ff000) != 0) bad = true;
    } else if ((entry & 0x78) != 0) bad = true; // bits 6:3 reserved in non-leaf entries
    if (bad) { misconfig(gpa); return 0xffffffffffffffff; }
    allow &= perm;
    if (leaf) break;
    table = entry & PHYS_MASK;
    level--;
  }
  const need: u64 = k == 1 ? 2 : k == 2 ? 4 : 1;
  if ((allow & need) == 0) {
    violation(gpa, kind, la, laValid, paging, allow, entry); return 0xffffffffffffffff;
  }
  if (eptAD) {
    // Accessed on every entry used, dirty on the leaf for writes (SDM 29.3.5).
    if (nUsed > 0) setBit(used0, 0x100);
    if (nUsed > 1) setBit(used1, 0x100);
    if (nUsed > 2) setBit(used2, 0x100);
    if (nUsed > 3) setBit(used3, 0x100);
    if (k == 1) setBit(entryAddr, 0x200);
  }
  const pageMask: u64 = level == 3 ? 0x3fffffff : level == 2 ? 0x1fffff : 0xfff;
  return (entry & PHYS_MASK & ~pageMask) | (gpa & pageMask);
}

@inline function setBit(a: u64, b: u64): void { const v = phys64(a); if ((v & b) == 0) setPhys64(a, v | b); }

function misconfig(gpa: u64): void {
  if (stop) return;
  V.vmcsSet(V.GUEST_PHYSICAL_ADDRESS, gpa);
  requestExit(V.EXIT_REASON_EPT_MISCONFIG, 0);
}

/** Exit qualification for EPT violations (SDM Table 28-7). */
function violation(gpa: u64, kind: i32, la: u64, laValid: bool, paging: bool, allow: u64, entry: u64): void {
  if (stop) return;
  // With EPT A/D on, guest paging-structure accesses are writes (bit 1), not reads.
  let q: u64 = paging && eptAD ? 2 : kind == 1 ? 2 : kind == 2 ? 4 : 1;
  q |= (allow & 7) << 3;                    // bits 5:3: R/W/X of the translation (AND over the entries)
  if (laValid) {
    q |= 0x80;                              // guest-linear address valid
    if (!paging) q |= 0x100;                // access to the translated address (not a paging structure)
  }
  // #VE instead of an exit (SDM 26.5.7.1 / 27.5.2): control on, suppress-#VE clear,
  // not during event delivery, and the information area free (dword at +4 is 0).
  if (veOn && !inDelivery && (entry >> 63) == 0) {
    const info = V.vmcsGet(V.VIRT_EXCEPTION_INFO);
    if (info + 40 <= machineSizeForVe && load<u32>(MACHINE_BASE + <usize>info, 4) == 0) {
      const p = MACHINE_BASE + <usize>info;
      store<u32>(p, 48);
      store<u32>(p, 0xffffffff, 4);
      store<u64>(p, q, 8);
      store<u64>(p, laValid ? la : 0, 16);
      store<u64>(p, gpa, 24);
      store<u16>(p, <u16>V.vmcsGet(V.EPTP_INDEX), 32);
      raise(20, 0, false);
      return;
    }
  }
  V.vmcsSet(V.GUEST_PHYSICAL_ADDRESS, gpa);
  V.vmcsSet(V.GUEST_LINEAR_ADDRESS, laValid ? la : 0);
  requestExit(V.EXIT_REASON_EPT_VIOLATION, q);
}

export let machineSizeForVe: u64 = 0;
export function eptSetMachineSize(n: u64): void { machineSizeForVe = n; }

/**
 * Host-side EPT walk for debuggers and tests: translates `gpa` for an access
 * of `kind` under EPTP `ptr` without side effects (no #VE, no A/D updates, VMCS
 * exit fields preserved). Returns the host-physical address, or -48 / -49 for a
 * violation / misconfiguration with the qualification left in probeQual.
 */
export let probeQual: u64 = 0;
export function eptProbe(ptr: u64, gpa: u64, kind: i32, machineSize: u64): i64 {
  const sOn = eptOn, sPtr = eptp, sVe = veOn;
  const sGpa = V.vmcsGet(V.GUEST_PHYSICAL_ADDRESS), sGla = V.vmcsGet(V.GUEST_LINEAR_ADDRESS);
  eptOn = true; veOn = false;
  eptSetPointer(ptr & ~(<u64>0x40)); // A/D off: a probe must not set accessed/dirty flags
  clearStop();
  const r = eptTranslate(gpa, kind, 0, false, false, machineSize);
  let out: i64 = <i64>r;
  if (stop) { out = -<i64>exitReq; probeQual = exitQual; }
  clearStop();
  eptOn = sOn; veOn = sVe; eptSetPointer(sPtr);
  V.vmcsSet(V.GUEST_PHYSICAL_ADDRESS, sGpa); V.vmcsSet(V.GUEST_LINEAR_ADDRESS, sGla);
  return out;
}
