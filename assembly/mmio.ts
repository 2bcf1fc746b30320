// MMIO emulation: the CPU completes ONE instruction whose data accesses to guest-physical
// addresses the host claims as MMIO are served by the host's device model instead of memory.
// On Xen an EPT violation on such an address (p2m type p2m_mmio_dm, or a range an internal
// handler claims) reaches hvm_hap_nested_page_fault -> handle_mmio_with_translation, which runs
// the instruction through x86_emulate with hvmemul_read/hvmemul_write routing those accesses to
// hvmemul_do_mmio (xen/arch/x86/hvm/emulate.c). Here the emulator is the CPU's own interpreter:
// the host calls mmioEmulate() from its EPT-violation handler and the instruction at GUEST_RIP is
// decoded and executed once more, with the same guest state in and out as a VM entry/exit.
//
// Routing happens only on the slow path (mmu.ts readSlow/writeSlow hand their accesses to
// mmioRead/mmioWrite while mmioEmulating is set), so the TLB fast path is untouched. An access is
// MMIO when the active EPT view would refuse it (an EPT violation) AND the host claims its
// guest-physical address: the same test the host's handler applies to the exit, so an address is
// MMIO in emulation exactly when it would have exited. MMIO pages therefore never enter the TLB
// (a violation never fills it). The claim is made before the EPT walk, so a claimed address
// never raises #VE here; whether an unmapped address exits or raises #VE natively is the
// suppress-#VE bit of its EPT entry, set by the host (Xen sets it in every unmapped entry).
//
// A multi-byte access is split as hvmemul_phys_mmio_access splits it: at the page boundary, then
// into the largest power-of-two chunks (at most 8 bytes), each chunk one host access, in address
// order. Page walks and descriptor-table reads are never MMIO: an EPT violation there ends the
// emulation as MMIO_EXIT, as an instruction fetch from MMIO does (Xen cannot emulate either).
import { MMIO_INSN } from "./layout";
import * as V from "./vmcs";
import * as S from "./state";
import * as D from "./decode";
import { MMIO_DONE, MMIO_EXCEPTION, MMIO_EXIT } from "./shared/mmio";
import { stop, clearStop, exitReq, exitQual, faultVec, faultType, faultErr, faultHasErr, faultCr2 } from "./fault";
import { translate, machineSize, selectView, ACC_WRITE } from "./mmu";
import { eptOn, eptp, eptLoad, eptProbe } from "./ept";
import { execute, partial } from "./exec";
import { loadGuestState } from "./vmx/entry";
import { saveGuestState } from "./vmx/exit";
import { opCost } from "./run/blocks";

// The host's device model (src/machine.ts provides these when it instantiates the CPU).
@external("env", "mmio_claims") declare function hostClaims(gpa: u64): bool;
@external("env", "mmio_read") declare function hostRead(gpa: u64, size: i32): u64;
@external("env", "mmio_write") declare function hostWrite(gpa: u64, size: i32, value: u64): void;

/** Set while mmioEmulate runs: mmu.ts readSlow/writeSlow hand their accesses to this file. */
export let mmioEmulating: bool = false;
/** Set only around this file's own translations: translate() asks mmioClaim before its EPT walk. */
export let mmioRouting: bool = false;
let claimedGpa: u64 = 0;

/** translate()'s hook: is the data access to `gpa` MMIO? (Records the address for the caller.) */
export function mmioClaim(gpa: u64, kind: i32): bool {
  // stop is clear here (translate returns at the first fault), so the probe's clearStop loses nothing.
  if (stop || !eptOn || eptProbe(eptp, gpa, kind, machineSize) != -48 || !hostClaims(gpa)) return false;
  claimedGpa = gpa;
  return true;
}

/**
 * Translates the page part of an access at `la`: a Wasm address for RAM, or 0 with `stop`
 * clear for MMIO (claimedGpa holds its guest-physical address), or 0 with `stop` set on a
 * fault. Nothing enters the TLB.
 */
function translatePart(la: u64, kind: i32): usize {
  mmioRouting = true;
  const p = translate(la, kind, S.cpl == 3, false);
  mmioRouting = false;
  return p;
}

/** Bytes [0, n) of the access at page part `p` / `gpa`: from RAM, or by host reads. */
function readPart(p: usize, gpa: u64, n: i32): u64 {
  let v: u64 = 0;
  if (p != 0) {
    for (let i = 0; i < n; i++) v |= <u64>load<u8>(p + <usize>i) << (<u64>i << 3);
    return v;
  }
  let done = 0, chunk = chunkFor(n);
  while (done < n) {
    while (chunk > n - done) chunk >>= 1;
    v |= mask(hostRead(gpa + <u64>done, chunk), chunk) << (<u64>done << 3);
    done += chunk;
  }
  return v;
}

function writePart(p: usize, gpa: u64, n: i32, v: u64): void {
  if (p != 0) {
    for (let i = 0; i < n; i++) store<u8>(p + <usize>i, <u8>(v >> (<u64>i << 3)));
    return;
  }
  let done = 0, chunk = chunkFor(n);
  while (done < n) {
    while (chunk > n - done) chunk >>= 1;
    hostWrite(gpa + <u64>done, chunk, mask(v >> (<u64>done << 3), chunk));
    done += chunk;
  }
}

/** The largest power of two not above n (n <= 8). */
@inline function chunkFor(n: i32): i32 { return n >= 8 ? 8 : n >= 4 ? 4 : n >= 2 ? 2 : 1; }
@inline function mask(v: u64, size: i32): u64 { return size >= 8 ? v : v & ((<u64>1 << (<u64>size << 3)) - 1); }

/** readSlow while emulating (the address is canonical): both page parts translated before any access. */
export function mmioRead(la: u64, size: i32, kind: i32): u64 {
  const n1 = <i32>min<u64>(<u64>size, 0x1000 - (la & 0xfff));
  const p1 = translatePart(la, kind);
  if (stop) return 0;
  const g1 = claimedGpa;
  if (n1 == size) return readPart(p1, g1, size);
  const p2 = translatePart(la + <u64>n1, kind);
  if (stop) return 0;
  const g2 = claimedGpa;
  const lo = readPart(p1, g1, n1);
  return lo | (readPart(p2, g2, size - n1) << (<u64>n1 << 3));
}

/** writeSlow while emulating (the address is canonical): both page parts translated before any write. */
export function mmioWrite(la: u64, size: i32, v: u64): void {
  const n1 = <i32>min<u64>(<u64>size, 0x1000 - (la & 0xfff));
  const p1 = translatePart(la, ACC_WRITE);
  if (stop) return;
  const g1 = claimedGpa;
  if (n1 == size) { writePart(p1, g1, size, v); return; }
  const p2 = translatePart(la + <u64>n1, ACC_WRITE);
  if (stop) return;
  const g2 = claimedGpa;
  writePart(p1, g1, n1, v);
  writePart(p2, g2, size - n1, v >> (<u64>n1 << 3));
}

// ---- the outcome the host reads after mmioEmulate ---------------------------------------------
let outIntrInfo: u32 = 0;   // MMIO_EXCEPTION: vector | type << 8 | error-code valid (bit 11) | valid (bit 31)
let outErr: u32 = 0;
let outCr2: u64 = 0;
let outReason: u32 = 0;     // MMIO_EXIT: basic exit reason, qualification, guest-physical and linear address
let outQual: u64 = 0;
let outGpa: u64 = 0;
let outGla: u64 = 0;
export function mmioEventInfo(): u32 { return outIntrInfo; }
export function mmioEventErrorCode(): u32 { return outErr; }
export function mmioEventCr2(): u64 { return outCr2; }
export function mmioExitReason(): u32 { return outReason; }
export function mmioExitQualification(): u64 { return outQual; }
export function mmioExitGpa(): u64 { return outGpa; }
export function mmioExitGla(): u64 { return outGla; }

/**
 * Re-executes the instruction at GUEST_RIP once, with MMIO accesses served by the host.
 * Guest state is read from the VMCS and written back to it (as VM entry and exit do); the
 * exit-information fields keep the exit that led here. Returns MMIO_DONE, MMIO_EXCEPTION or
 * MMIO_EXIT (see assembly/shared/mmio.ts); with the last two no access after the event was made.
 */
export function mmioEmulate(): i32 {
  clearStop();
  loadGuestState();
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  eptLoad((prim & V.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) != 0 ? V.vmcsGet32(V.SECONDARY_VM_EXEC_CONTROL) : 0);
  selectView();
  // A nested EPT violation writes these two exit fields: they keep the exit being handled.
  const sGpa = V.vmcsGet(V.GUEST_PHYSICAL_ADDRESS), sGla = V.vmcsGet(V.GUEST_LINEAR_ADDRESS);

  const e = MMIO_INSN;
  mmioEmulating = true;
  D.decode(e, S.rip);
  if (!stop) {
    S.nrip = S.rip + <u64>load<u8>(e, D.D_LEN);
    execute(e);
  }
  mmioEmulating = false;

  let status = MMIO_DONE;
  if (stop) {
    if (exitReq >= 0) {
      status = MMIO_EXIT;
      outReason = <u32>exitReq; outQual = exitQual;
      outGpa = V.vmcsGet(V.GUEST_PHYSICAL_ADDRESS); outGla = V.vmcsGet(V.GUEST_LINEAR_ADDRESS);
      V.vmcsSet(V.GUEST_PHYSICAL_ADDRESS, sGpa); V.vmcsSet(V.GUEST_LINEAR_ADDRESS, sGla);
    } else {
      status = MMIO_EXCEPTION;
      outIntrInfo = <u32>faultVec | (faultType << 8) | (faultHasErr ? V.INTR_INFO_DELIVER_CODE_MASK : 0) | V.INTR_INFO_VALID_MASK;
      outErr = faultErr; outCr2 = faultCr2;
    }
    clearStop();
  } else {
    S.rip = S.nrip;
    if (partial) partial = false; // a REP string chunk: it resumes at the same RIP, not retired yet
    else {
      S.insnsRetired++;
      S.vcycles += <u64>opCost(<i32>load<u16>(e, D.D_OP));
    }
  }
  // One instruction has run: an STI / MOV SS shadow from before it ends (as the run loop ages it).
  if (S.intrShadow != 0) {
    if (--S.shadowAge <= 0) S.intrShadow = 0;
  }
  saveGuestState();
  return status;
}
