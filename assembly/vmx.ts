// VMX non-root operation: VM entry (load guest state, inject an event),
// the instruction loop, and VM exit (save guest state, write the exit-
// information fields) -- SDM Vol. 3C chapters 26 (VM entries) and 28 (VM exits).
import * as V from "./vmcs";
import * as S from "./state";
import * as D from "./decode";
import { DCACHE, DCACHE_ENTRIES, DENTRY, BLOCK_BYTES, BLOCK_INSNS } from "./layout";
import { stop, faultVec, faultErr, faultHasErr, faultType, faultCr2, exitReq, exitQual, clearStop, raise } from "./fault";
import { decode } from "./decode";
import { execute, partial } from "./exec";
import { dgen, tlbSelect, tlbFlushAll, selectView, viewTag } from "./mmu";
import { eptLoad, inDelivery } from "./ept";
import { getRflags, setRflags } from "./flags";
import { idtDeliver, setCpl, vectoring, vectoringErr } from "./events";
import { halted } from "./system";

/** Virtual cycles charged per retired instruction, by operation (the cost model's CPU side). */
export const COSTS: usize = 0x00108000; // 256 x u32, inside the CPU's private area
let pendingExtInt: i32 = -1;            // a host interrupt arriving at this physical CPU
let exitReasonOut: u32 = 0;
let mtfPending: bool = false;
// The host debugger's view (not architecture): linear-address breakpoints and a
// stop before VMFUNC, checked at instruction boundaries like QEMU's gdbstub
// checks its breakpoints. vmresume returns DEBUG_STOP with RIP at the address.
const BREAKPOINTS: usize = 0x00108400; // up to 64 x u64
import { MAX_BREAKPOINTS } from "./shared/limits";
let nBreakpoints: i32 = 0;
let breakOnVmfunc: bool = false;
let debugSkip: bool = false;   // resume past a breakpoint at the current RIP once
export function setBreakpoints(n: i32): void { nBreakpoints = n < 0 ? 0 : n > MAX_BREAKPOINTS ? MAX_BREAKPOINTS : n; dgen++; }
export function breakpointTable(): usize { return BREAKPOINTS; }
export function setBreakOnVmfunc(on: bool): void { breakOnVmfunc = on; dgen++; }
export function skipBreakpointOnce(): void { debugSkip = true; }
function isBreakpoint(la: u64): bool {
  for (let i = 0; i < nBreakpoints; i++) if (load<u64>(BREAKPOINTS + (<usize>i << 3)) == la) return true;
  return false;
}

/** Decoded-instruction cache misses (instructions decoded), for statistics. */
export let decodeCount: u64 = 0;

export function costsInit(): void { for (let i = 0; i < 256; i++) store<u32>(COSTS + (<usize>i << 2), 1); }
export function setCost(op: i32, cycles: u32): void {
  store<u32>(COSTS + (<usize>(op & 255) << 2), cycles);
  dgen++; // decoded entries carry their cost: decode again
}

// ---- guest state <-> VMCS (SDM 26.3.2 loading, 28.3 saving) -----------------
export function loadGuestState(): void {
  S.cr0 = V.vmcsGet(V.GUEST_CR0); S.cr3 = V.vmcsGet(V.GUEST_CR3); S.cr4 = V.vmcsGet(V.GUEST_CR4);
  S.efer = V.vmcsGet(V.GUEST_IA32_EFER);
  for (let s = 0; s < 8; s++) {
    const i = <u32>s << 1;
    S.setSegSel(s, <u16>V.vmcsGet(V.GUEST_ES_SELECTOR + i));
    S.setSegBase(s, V.vmcsGet(V.GUEST_ES_BASE + i));
    S.setSegLimit(s, V.vmcsGet32(V.GUEST_ES_LIMIT + i));
    S.setSegAr(s, V.vmcsGet32(V.GUEST_ES_AR_BYTES + i));
  }
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
  setCpl(<i32>((S.segAr(S.SS) >> 5) & 3));
}

export function saveGuestState(): void {
  V.vmcsSet(V.GUEST_CR0, S.cr0); V.vmcsSet(V.GUEST_CR3, S.cr3); V.vmcsSet(V.GUEST_CR4, S.cr4);
  V.vmcsSet(V.GUEST_IA32_EFER, S.efer);
  for (let s = 0; s < 8; s++) {
    const i = <u32>s << 1;
    V.vmcsSet(V.GUEST_ES_SELECTOR + i, <u64>S.segSel(s));
    V.vmcsSet(V.GUEST_ES_BASE + i, S.segBase(s));
    V.vmcsSet(V.GUEST_ES_LIMIT + i, <u64>S.segLimit(s));
    V.vmcsSet(V.GUEST_ES_AR_BYTES + i, <u64>S.segAr(s));
  }
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
  V.vmcsSet(V.GUEST_ACTIVITY_STATE, halted ? 1 : 0);
}

/** Records a VM exit: the basic reason and the exit-information fields (SDM 28.2). */
function vmExit(reason: u32, qual: u64, instrLen: u32): void {
  exitReasonOut = reason;
  V.vmcsSet(V.VM_EXIT_REASON, <u64>reason);
  V.vmcsSet(V.EXIT_QUALIFICATION, qual);
  V.vmcsSet(V.VM_EXIT_INSTRUCTION_LEN, <u64>instrLen);
  V.vmcsSet(V.IDT_VECTORING_INFO, <u64>vectoring);
  V.vmcsSet(V.IDT_VECTORING_ERROR_CODE, <u64>vectoringErr);
  // Every VM exit clears the valid bit of the VM-entry interruption information.
  V.vmcsSet(V.VM_ENTRY_INTR_INFO, V.vmcsGet(V.VM_ENTRY_INTR_INFO) & 0x7fffffff);
}

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
 * VM exit resulted.
 */
function deliver(vec0: i32, type0: u32, err0: u32, hasErr0: bool, retRip: u64, instrLen: u32, cr2val: u64): bool {
  let vec = vec0, type = type0, err = err0, hasErr = hasErr0, faultAddr = cr2val;
  vectoring = 0; vectoringErr = 0;
  while (true) {
    const isException = type == 3 || type == 5 || type == 6;
    if (isException && exceptionExits(vec, err)) {
      V.vmcsSet(V.VM_EXIT_INTR_INFO, <u64>(<u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE : 0) | V.INTR_INFO_VALID));
      V.vmcsSet(V.VM_EXIT_INTR_ERROR_CODE, <u64>err);
      vmExit(V.EXIT_REASON_EXCEPTION_NMI, vec == 14 ? faultAddr : 0, type == 6 || type == 5 ? instrLen : 0);
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
      vectoring = <u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE : 0) | V.INTR_INFO_VALID;
      vectoringErr = err;
      const reason = <u32>exitReq, q = exitQual;
      clearStop();
      vmExit(reason, q, 0);
      return true;
    }
    // A fault while delivering: the double-fault rules (SDM Table 6-5).
    const second = faultVec;
    const secondErr = faultErr, secondHasErr = faultHasErr, secondCr2 = faultCr2;
    vectoring = <u32>vec | (type << 8) | (hasErr ? V.INTR_INFO_DELIVER_CODE : 0) | V.INTR_INFO_VALID;
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

// ---- interrupt injection on VM entry (SDM 26.6) -------------------------------
function injectOnEntry(): bool {
  const info = V.vmcsGet32(V.VM_ENTRY_INTR_INFO);
  if ((info & V.INTR_INFO_VALID) == 0) return false;
  const vec = <i32>(info & 0xff), type = (info >> 8) & 7;
  const hasErr = (info & V.INTR_INFO_DELIVER_CODE) != 0;
  const len = V.vmcsGet32(V.VM_ENTRY_INSTRUCTION_LEN);
  const retRip = (type == 4 || type == 5 || type == 6) ? S.rip + <u64>len : S.rip;
  const exited = deliver(vec, type == 2 ? 3 : type, V.vmcsGet32(V.VM_ENTRY_EXCEPTION_ERROR_CODE), hasErr, retRip, len, S.cr2);
  V.vmcsSet(V.VM_ENTRY_INTR_INFO, <u64>(info & 0x7fffffff));
  S.intrShadow = 0;
  return exited;
}

/** The host signals an interrupt at this CPU (its timer, an IPI): exit 1 or delivery to the guest. */
export function postExternalInterrupt(vector: i32): void { pendingExtInt = vector; }

@inline function interruptible(): bool { return (getRflags() & S.F_IF) != 0 && S.intrShadow == 0; }

/** Checks at an instruction boundary; returns true when the loop must stop (a VM exit). */
function boundaryChecks(): bool {
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  if ((prim & V.CPU_MONITOR_TRAP_FLAG) != 0 && mtfPending) {
    // Monitor trap flag: a VM exit after each instruction (SDM 25.5.2, 26.5.2).
    mtfPending = false;
    vmExit(V.EXIT_REASON_MONITOR_TRAP_FLAG, 0, 0);
    return true;
  }
  if (pendingExtInt >= 0) {
    const pin = V.vmcsGet32(V.PIN_BASED_VM_EXEC_CONTROL);
    if ((pin & V.PIN_EXT_INTR_EXITING) != 0) {
      const ack = (V.vmcsGet32(V.VM_EXIT_CONTROLS) & V.EXIT_ACK_INTR_ON_EXIT) != 0;
      V.vmcsSet(V.VM_EXIT_INTR_INFO, ack ? <u64>(<u32>pendingExtInt | V.INTR_INFO_VALID) : 0);
      if (ack) pendingExtInt = -1;
      vmExit(V.EXIT_REASON_EXTERNAL_INTERRUPT, 0, 0);
      return true;
    }
    if (interruptible()) {
      const v = pendingExtInt; pendingExtInt = -1;
      if (deliver(v, 0, 0, false, S.rip, 0, 0)) return true;
    }
  }
  const p = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  if ((p & V.CPU_INTR_WINDOW_EXITING) != 0 && interruptible()) {
    vmExit(V.EXIT_REASON_INTERRUPT_WINDOW, 0, 0);
    return true;
  }
  return false;
}

// ---- VMRESUME ----------------------------------------------------------------
/**
 * Enters the guest and runs until a VM exit; returns the basic exit reason
 * (bit 31 set on a VM-entry failure). `budget` bounds the instructions retired:
 * when it runs out the exit is a VMX-preemption-timer exit (52), as is the
 * expiry of the preemption timer itself when the pin-based control is on.
 */
export function vmresume(budget: u64): u32 {
  clearStop();
  exitReasonOut = 0xffffffff;
  vectoring = 0; vectoringErr = 0;
  V.vmcsSet(V.VM_EXIT_INTR_INFO, 0);
  V.vmcsSet(V.VM_EXIT_INTR_ERROR_CODE, 0);
  V.vmcsSet(V.EXIT_QUALIFICATION, 0);
  loadGuestState();
  // Checks on the guest state this CPU can run (SDM 26.3.1): IA-32e mode with paging, 64-bit CS.
  const entryCtl = V.vmcsGet32(V.VM_ENTRY_CONTROLS);
  if ((entryCtl & V.ENTRY_IA32E_MODE_GUEST) == 0 || (S.cr0 & S.CR0_PG) == 0 || (S.cr4 & S.CR4_PAE) == 0 ||
      (S.efer & S.EFER_LMA) == 0 || (S.segAr(S.CS) & 0x2000) == 0) {
    exitReasonOut = V.EXIT_REASON_FAILED_VMENTRY | V.EXIT_REASON_INVALID_GUEST_STATE;
    V.vmcsSet(V.VM_EXIT_REASON, <u64>exitReasonOut);
    V.vmcsSet(V.EXIT_QUALIFICATION, 0);
    return exitReasonOut;
  }
  // Injecting an external interrupt needs RFLAGS.IF = 1 and no STI/MOV-SS blocking (SDM 26.3.1.5).
  const inj = V.vmcsGet32(V.VM_ENTRY_INTR_INFO);
  if ((inj & V.INTR_INFO_VALID) != 0 && ((inj >> 8) & 7) == V.INTR_TYPE_EXT_INTR &&
      ((getRflags() & S.F_IF) == 0 || (V.vmcsGet32(V.GUEST_INTERRUPTIBILITY_INFO) & 3) != 0)) {
    exitReasonOut = V.EXIT_REASON_FAILED_VMENTRY | V.EXIT_REASON_INVALID_GUEST_STATE;
    V.vmcsSet(V.VM_EXIT_REASON, <u64>exitReasonOut);
    return exitReasonOut;
  }
  halted = V.vmcsGet32(V.GUEST_ACTIVITY_STATE) == 1;
  tlbSelect();
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  eptLoad((prim & V.CPU_ACTIVATE_SECONDARY) != 0 ? V.vmcsGet32(V.SECONDARY_VM_EXEC_CONTROL) : 0);
  selectView();
  const pin = V.vmcsGet32(V.PIN_BASED_VM_EXEC_CONTROL);
  const timerOn = (pin & V.PIN_PREEMPTION_TIMER) != 0;
  // The preemption timer counts down at the TSC rate (IA32_VMX_MISC[4:0] = 0: no divider), so a
  // hypervisor can arm it for an exact virtual time and re-arm it without rounding.
  const timerDeadline: u64 = timerOn ? S.vcycles + <u64>V.vmcsGet32(V.VMX_PREEMPTION_TIMER_VALUE) : 0xffffffffffffffff;
  if (injectOnEntry()) { halted = false; return finish(); }
  if (halted && (V.vmcsGet32(V.VM_ENTRY_INTR_INFO) & V.INTR_INFO_VALID) == 0) {
    // HLT activity state: time passes until the preemption timer fires.
    if (timerOn && timerDeadline > S.vcycles) S.vcycles = timerDeadline;
    vmExit(V.EXIT_REASON_PREEMPTION_TIMER, 0, 0);
    return finish();
  }
  runLoop(budget, timerDeadline);
  return finish();
}

function finish(): u32 {
  saveGuestState();
  return exitReasonOut;
}

// V8 has no on-stack replacement for Wasm: a function enters its optimised tier
// only on a later call. The loop therefore runs in slices of a bounded length,
// each a fresh call of runSlice, so the hot loop is optimised after a few slices.
const SLICE: u64 = 1 << 16;

function runLoop(budget: u64, timerDeadline: u64): void {
  const stopAt = S.insnsRetired + budget;
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  const needChecks = (prim & (V.CPU_INTR_WINDOW_EXITING | V.CPU_MONITOR_TRAP_FLAG)) != 0;
  mtfPending = false;
  if ((needChecks || pendingExtInt >= 0) && boundaryChecks()) return;
  mtfPending = true; // from here on, each retired instruction (or delivered event) ends with an MTF exit
  while (true) {
    if (S.insnsRetired >= stopAt || S.vcycles >= timerDeadline) {
      vmExit(V.EXIT_REASON_PREEMPTION_TIMER, 0, 0);
      return;
    }
    const sliceEnd = stopAt - S.insnsRetired > SLICE ? S.insnsRetired + SLICE : stopAt;
    if (runSlice(sliceEnd, timerDeadline, needChecks)) return;
  }
}

// Block header layout (the first DENTRY bytes of a block).
const B_TAG = 0;    // u64 linear RIP of the first instruction
const B_GEN = 8;    // u32 decoded-cache generation | CPL
const B_COUNT = 12; // u32 instructions in the block
const B_COST = 16;  // u64 virtual cycles of the whole block

/** Ends a block: control transfers, system instructions, and anything that changes interruptibility. */
@inline function endsBlock(op: i32): bool {
  return op >= D.OP_CPUID || (op >= D.OP_JCC && op <= D.OP_CALL_E) || op == D.OP_LOOP || op == D.OP_POPF ||
    op == D.OP_UD || op == D.OP_UD2 || op == D.OP_TOOLONG;
}

/** Decodes a block at `r` into header `h`; false when the first instruction cannot be fetched. */
function buildBlock(h: usize, r: u64, gen: u32): bool {
  let la = r;
  let n: u32 = 0;
  let cost: u64 = 0;
  while (n < BLOCK_INSNS) {
    if (n > 0 && nBreakpoints != 0 && isBreakpoint(la)) break; // a breakpoint starts its own block
    const e = h + DENTRY + <usize>n * DENTRY;
    decode(e, la);
    decodeCount++;
    if (stop) {
      if (n == 0) { store<u64>(h, 0xffffffffffffffff, B_TAG); return false; }
      clearStop(); // the fault belongs to a later instruction: it is raised when that one runs
      break;
    }
    const op = <i32>load<u16>(e, D.D_OP);
    const c = load<u32>(COSTS + (<usize>(op & 255) << 2));
    store<u32>(e, c, D.D_COST);
    cost += <u64>c;
    if (op == D.OP_VMFUNC && breakOnVmfunc && n > 0) break; // VMFUNC starts its own block too
    la += <u64>load<u8>(e, D.D_LEN);
    n++;
    if (endsBlock(op)) break;
  }
  store<u64>(h, r, B_TAG);
  store<u32>(h, gen, B_GEN);
  store<u32>(h, n, B_COUNT);
  store<u64>(h, cost, B_COST);
  return true;
}

/** Runs until `sliceEnd` instructions have retired; true when a VM exit ended the run. */
function runSlice(sliceEnd: u64, timerDeadline: u64, needChecks: bool): bool {
  while (S.insnsRetired < sliceEnd && S.vcycles < timerDeadline) {
    const r = S.rip;
    const dg = dgen;
    const gen = (dg & 0x1ffffff) | (viewTag << 25) | (<u32>S.cpl << 30); // code is tagged by EPT view and CPL
    const h = DCACHE + (<usize>((<u32>r ^ <u32>(r >> 13)) & (DCACHE_ENTRIES - 1))) * BLOCK_BYTES;
    if (load<u64>(h, B_TAG) != r || load<u32>(h, B_GEN) != gen) {
      if (!buildBlock(h, r, gen)) {
        if (handleStop(0, timerDeadline)) return true;
        continue;
      }
    }
    if (nBreakpoints != 0 || breakOnVmfunc) {
      const stopHere = (nBreakpoints != 0 && isBreakpoint(r)) ||
        (breakOnVmfunc && load<u16>(h, DENTRY + D.D_OP) == D.OP_VMFUNC);
      if (stopHere && !debugSkip) { exitReasonOut = V.DEBUG_STOP; return true; }
      debugSkip = false;
    }
    let n = load<u32>(h, B_COUNT);
    // Near the budget or the timer, run only what fits, so exits land on the exact instruction.
    if (S.insnsRetired + <u64>n > sliceEnd || S.vcycles + load<u64>(h, B_COST) > timerDeadline) n = 1;
    // While boundary checks are armed, or an interrupt shadow runs out, step one instruction at a time.
    if (needChecks || S.intrShadow != 0 || pendingExtInt >= 0) n = 1;
    let e = h + DENTRY;
    for (let i: u32 = 0; i < n; i++) {
      const cur = S.rip;
      const next = cur + <u64>load<u8>(e, D.D_LEN);
      S.nrip = next;
      execute(e);
      if (stop) {
        if (handleStop(<u32>load<u8>(e, D.D_LEN), timerDeadline)) return true;
        break;
      }
      S.rip = S.nrip;
      if (partial) { partial = false; break; }
      S.insnsRetired++;
      S.vcycles += <u64>load<u32>(e, D.D_COST);
      if (S.nrip != next || dgen != dg) break; // branch taken, or code/TLB changed
      e += DENTRY;
    }
    // Interrupt shadows: STI and MOV SS end a block, and a block that starts in a
    // shadow runs one instruction, so one step per block ages the shadow exactly.
    if (S.intrShadow != 0) {
      if (--S.shadowAge <= 0) S.intrShadow = 0;
    }
    if (needChecks || pendingExtInt >= 0) { if (boundaryChecks()) return true; }
  }
  return false;
}

/** An instruction stopped early: a VM exit it requested, or an exception to deliver. */
function handleStop(len: u32, timerDeadline: u64): bool {
  if (exitReq >= 0) {
    if (halted) {
      // HLT without HLT exiting retires, then the CPU idles until the preemption timer fires.
      S.rip = S.nrip; S.insnsRetired++;
      if (timerDeadline != 0xffffffffffffffff && timerDeadline > S.vcycles) S.vcycles = timerDeadline;
      vmExit(V.EXIT_REASON_PREEMPTION_TIMER, 0, 0);
      return true;
    }
    vmExit(<u32>exitReq, exitQual, len);
    return true;
  }
  const vec = faultVec, type = faultType, err = faultErr, hasErr = faultHasErr, cr2v = faultCr2;
  clearStop();
  if (type == 4 || type == 6) {
    // INT n / INT3 retire before their event is delivered.
    S.insnsRetired++;
    S.vcycles += <u64>load<u32>(COSTS + (<usize>D.OP_INT << 2));
  }
  const exited = deliver(vec, type, err, hasErr, S.nrip, len, cr2v);
  clearStop();
  return exited;
}

