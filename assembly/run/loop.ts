// VMRESUME's run loop: enters the guest (vmx/entry.ts), runs decoded blocks in slices until a VM
// exit, and performs the checks due at instruction boundaries -- the monitor trap flag (SDM Vol. 3C
// 25.5.2), external interrupts and the interrupt window (25.2, 26.7.5), and the VMX-preemption
// timer (25.5.1). An instruction that stops early (fault or exit request, see fault.ts) is turned
// into an event delivery or a VM exit here. Each block entry fetches RIP through the fetch TLB
// (SDM Vol. 3A 4.10.2: a fetch needs a translation with execute rights) and then finds the
// decoded block by the machine address it yields (run/blocks.ts, codepages.ts).
import * as V from "../vmcs";
import * as S from "../state";
import * as D from "../decode";
import { DCACHE, DENTRY, BLOCK_BYTES, TLB_ENTRIES } from "../layout";
import { stop, faultVec, faultErr, faultHasErr, faultType, faultCr2, exitReq, exitQual, clearStop } from "../fault";
import { execute, partial } from "../exec";
import { tlbX, tlbBias, translate, ACC_FETCH } from "../mmu";
import { codeEpoch, B_TAG } from "../codepages";
import { getRflags, rflagsRest } from "../flags";
import { exitReasonOut, vmExit, saveGuestState } from "../vmx/exit";
import { vmEntry, timerDeadline, ENTRY_FAILED, ENTRY_RUN } from "../vmx/entry";
import { deliver } from "../vmx/deliver";
import { B_LA, B_PAGE2, B_COUNT, B_COST, B_JIT, B_JCALLS, B_JINSNS, blockTag, buildBlock, opCost, dcacheSlot } from "./blocks";
import { jitOn, jitConsider, JIT_NONE, jitTableIndex, jitEntryIndex } from "../jit/cache";
import { nBreakpoints, breakOnVmfunc, debugStopHere } from "./debug";

/** Calls of compiled regions, and the instructions they retired (statistics). */
export let jitCalls: u64 = 0;
export let jitInsns: u64 = 0;
let pendingExtInt: i32 = -1;            // a host interrupt arriving at this physical CPU
let mtfPending: bool = false;

/** The host signals an interrupt at this CPU (its timer, an IPI): exit 1 or delivery to the guest. */
export function postExternalInterrupt(vector: i32): void { pendingExtInt = vector; }

@inline function interruptible(): bool { return (getRflags() & S.F_IF) != 0 && S.intrShadow == 0; }

/** Checks at an instruction boundary; returns true when the loop must stop (a VM exit). */
function boundaryChecks(): bool {
  const prim = V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL);
  if ((prim & V.CPU_BASED_MONITOR_TRAP_FLAG) != 0 && mtfPending) {
    // Monitor trap flag: a VM exit after each instruction (SDM 25.5.2, 26.5.2).
    mtfPending = false;
    vmExit(V.EXIT_REASON_MONITOR_TRAP_FLAG, 0, 0);
    return true;
  }
  if (pendingExtInt >= 0) {
    const pin = V.vmcsGet32(V.PIN_BASED_VM_EXEC_CONTROL);
    if ((pin & V.PIN_BASED_EXT_INTR_MASK) != 0) {
      const ack = (V.vmcsGet32(V.VM_EXIT_CONTROLS) & V.VM_EXIT_ACK_INTR_ON_EXIT) != 0;
      V.vmcsSet(V.VM_EXIT_INTR_INFO, ack ? <u64>(<u32>pendingExtInt | V.INTR_INFO_VALID_MASK) : 0);
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
  if ((p & V.CPU_BASED_INTR_WINDOW_EXITING) != 0 && interruptible()) {
    vmExit(V.EXIT_REASON_PENDING_VIRT_INTR, 0, 0);
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
  const entered = vmEntry();
  if (entered == ENTRY_FAILED) return exitReasonOut;
  if (entered == ENTRY_RUN) runLoop(budget, timerDeadline);
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
  const needChecks = (prim & (V.CPU_BASED_INTR_WINDOW_EXITING | V.CPU_BASED_MONITOR_TRAP_FLAG)) != 0;
  mtfPending = false;
  if ((needChecks || pendingExtInt >= 0) && boundaryChecks()) return;
  mtfPending = true; // from here on, each retired instruction (or delivered event) ends with an MTF exit
  while (true) {
    if (S.insnsRetired >= stopAt || S.vcycles >= timerDeadline) {
      vmExit(V.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, 0, 0);
      return;
    }
    const sliceEnd = stopAt - S.insnsRetired > SLICE ? S.insnsRetired + SLICE : stopAt;
    if (runSlice(sliceEnd, timerDeadline, needChecks)) return;
  }
}

/**
 * A cached block entered at linear `r`: when its bytes run into the next page, that page must be
 * fetchable here and map the frame they were decoded from; under breakpoints, which split blocks
 * by linear address, it must have been decoded at `r`.
 */
@inline function blockFits(h: usize, r: u64): bool {
  const page2 = load<u32>(h, B_PAGE2);
  if (page2 != 0) {
    const n = (r >> 12) + 1;
    const x = tlbX + ((<usize>n & (TLB_ENTRIES - 1)) << 4);
    if (load<u64>(x) != n + tlbBias || <u32>(load<u64>(x, 8) >> 12) != page2) return false;
  }
  return nBreakpoints == 0 || load<u64>(h, B_LA) == r;
}

/** Runs until `sliceEnd` instructions have retired; true when a VM exit ended the run. */
function runSlice(sliceEnd: u64, timerDeadline: u64, needChecks: bool): bool {
  const tag0 = blockTag(0); // dgen's part of the tags: only the host changes dgen, between runs
  // The last page fetched from, valid while codeEpoch stands (TLB flushes, view and CPL changes bump it).
  let curPage: u64 = 0xffffffffffffffff, curBase: usize = 0, curEpoch: u32 = codeEpoch - 1;
  while (S.insnsRetired < sliceEnd && S.vcycles < timerDeadline) {
    const r = S.rip;
    const ce = codeEpoch;
    let key: usize;
    if ((r >> 12) == curPage && ce == curEpoch) key = curBase + <usize>(r & 0xfff);
    else {
      // Fetch RIP through the fetch TLB (tagged by EPT view and CPL): a block another view or CPL
      // decoded is shared, but this one must still be allowed to execute it (#PF, EPT violation).
      const x = tlbX + ((<usize>(r >> 12) & (TLB_ENTRIES - 1)) << 4);
      if (load<u64>(x) == (r >> 12) + tlbBias) key = <usize>load<u64>(x, 8) + <usize>(r & 0xfff);
      else {
        key = translate(r, ACC_FETCH, S.cpl == 3, true);
        if (stop) {
          if (handleStop(0, timerDeadline)) return true;
          continue;
        }
      }
      curPage = r >> 12; curBase = key - <usize>(r & 0xfff); curEpoch = ce;
    }
    const slot = dcacheSlot(key);
    const h = DCACHE + <usize>slot * BLOCK_BYTES;
    if (load<u64>(h, B_TAG) != (tag0 | <u64>key) || !blockFits(h, r)) {
      if (!buildBlock(h, slot, r, key)) {
        if (handleStop(0, timerDeadline)) return true;
        continue;
      }
    }
    if (nBreakpoints != 0 || breakOnVmfunc) {
      if (debugStopHere(r, load<u16>(h, DENTRY + D.D_OP) == D.OP_VMFUNC)) { exitReasonOut = V.DEBUG_STOP; return true; }
    }
    let n = load<u32>(h, B_COUNT);
    // Single-step (RFLAGS.TF): a block that starts with TF set, or with a trap held back by MOV SS,
    // runs one instruction; with TF clear this test is the whole cost, once per block.
    const step = (rflagsRest & S.F_TF) != 0 || S.pendingDbg != 0;
    // Near the budget or the timer, run only what fits, so exits land on the exact instruction.
    if (S.insnsRetired + <u64>n > sliceEnd || S.vcycles + load<u64>(h, B_COST) > timerDeadline) n = 1;
    // While boundary checks are armed, or an interrupt shadow runs out, step one instruction at a time.
    if (needChecks || S.intrShadow != 0 || pendingExtInt >= 0 || step) n = 1;
    let completed = true; // the (single-stepped) instruction or REP iteration ran: no event, no exit
    // Compiled code (jit/): only for a block the loop runs whole, with nothing to check between
    // instructions; it runs this block and may go on through others of its region (jit/gen.ts).
    if (jitOn && n == load<u32>(h, B_COUNT) && !needChecks && S.intrShadow == 0 && pendingExtInt < 0 && !step) {
      const res = runCompiled(h, key, sliceEnd, timerDeadline);
      if (res >= 0) {
        n = 0;
        if (res != 0) {
          if (handleStop(<u32>res & 0xff, timerDeadline)) return true;
          completed = false; S.pendingDbg = 0;
        }
      }
    }
    let e = h + DENTRY;
    for (let i: u32 = 0; i < n; i++) {
      const cur = S.rip;
      const next = cur + <u64>load<u8>(e, D.D_LEN);
      S.nrip = next;
      execute(e);
      if (stop) {
        // A VM exit keeps a held-back #DB pending (saved in the VMCS); a delivered event drops it.
        if (handleStop(<u32>load<u8>(e, D.D_LEN), timerDeadline)) return true;
        completed = false; S.pendingDbg = 0;
        break;
      }
      S.rip = S.nrip;
      if (partial) { partial = false; break; } // under TF an iteration of REP: it traps too
      S.insnsRetired++;
      S.vcycles += <u64>load<u32>(e, D.D_COST);
      if (S.nrip != next || codeEpoch != ce) break; // branch taken, or code/TLB changed
      e += DENTRY;
    }
    if (step && completed && singleStepTrap(<i32>load<u16>(h, DENTRY + D.D_OP), needChecks)) return true;
    // Interrupt shadows: STI and MOV SS end a block, and a block that starts in a
    // shadow runs one instruction, so one step per block ages the shadow exactly.
    if (S.intrShadow != 0) {
      if (--S.shadowAge <= 0) S.intrShadow = 0;
    }
    if (needChecks || pendingExtInt >= 0) { if (boundaryChecks()) return true; }
  }
  return false;
}

/**
 * Runs the compiled region entered at block `h` (first byte at Wasm address `key`), compiling it
 * when the block turns hot (jit/cache.ts): what the region returned (0, or STOPPED | length), or
 * -1 when there is none and the interpreter runs the block. Not under the debugger's breakpoints.
 */
function runCompiled(h: usize, key: usize, sliceEnd: u64, timerDeadline: u64): i32 {
  if (nBreakpoints != 0 || breakOnVmfunc) return -1;
  let j = load<u32>(h, B_JIT);
  if (j == 0) j = jitConsider(h, key);
  if (j == 0 || j == JIT_NONE) return -1;
  const i0 = S.insnsRetired;
  const res = call_indirect<i32>(jitTableIndex(j), sliceEnd, timerDeadline, jitEntryIndex(j));
  const n = S.insnsRetired - i0;
  jitCalls++; jitInsns += n;
  // A call loads the region's state into locals and writes it back: an entry whose calls run only a
  // few instructions each costs more than the interpreter would (boot code that leaves at every call
  // and system instruction). After JIT_PROBE_CALLS calls, such an entry is left to the interpreter.
  const calls = load<u32>(h, B_JCALLS) + 1;
  if (calls <= JIT_PROBE_CALLS) {
    const insns = load<u64>(h, B_JINSNS) + n;
    store<u32>(h, calls, B_JCALLS);
    store<u64>(h, insns, B_JINSNS);
    if (calls == JIT_PROBE_CALLS && insns < <u64>JIT_PROBE_CALLS * JIT_MIN_RUN) { store<u32>(h, JIT_NONE, B_JIT); jitDemoted++; }
  }
  return res;
}

const JIT_PROBE_CALLS: u32 = 256;
const JIT_MIN_RUN: u64 = 64;
/** Entries left to the interpreter after their probe calls (statistics). */
export let jitDemoted: u32 = 0;

/**
 * The single-step trap after an instruction that began with RFLAGS.TF = 1 (SDM Vol. 3B 17.3.1.4
 * "Single-Step Exception Condition"): #DB, vector 1, trap class (the saved RIP is the next
 * instruction), DR6.BS = 1 (17.2.3). Not after an instruction that faulted, delivered INT n, or
 * VM-exited (the VMM completes that one: Xen's update_guest_eip, src/xen/vcpu.ts); not after MOV SS /
 * POP SS, which hold it back to the next instruction boundary (Vol. 3A 6.8.3); SYSCALL decides by the
 * TF it leaves, which FMASK normally clears (Xen x86_emulate "SYSCALL (unlike most instructions)
 * evaluates its singlestep action based on the resulting EFLAGS.TF", XTF test-xsa-204). POPF or IRET
 * that set TF trap only after the next instruction: the block began with TF clear. With the monitor
 * trap flag armed, the MTF VM exit comes first (it has priority over trap-class #DBs) and the #DB
 * stays pending in the VMCS (Vol. 3C 28.3.4), delivered after the next VM entry (vmx/entry.ts).
 * A REP string instruction traps after each iteration, RIP still at it (exec.ts runs one per call under TF).
 * Returns true when a VM exit resulted.
 */
function singleStepTrap(op: i32, needChecks: bool): bool {
  const held = S.pendingDbg != 0; // MOV SS held the previous instruction's trap back to here
  if (op == D.OP_SYSCALL && (rflagsRest & S.F_TF) == 0 && !held) return false;
  if ((S.intrShadow & 2) != 0 && S.shadowAge == 2) { S.pendingDbg = S.DR6_BS; return false; } // MOV SS / POP SS
  if (needChecks && mtfPending && (V.vmcsGet32(V.CPU_BASED_VM_EXEC_CONTROL) & V.CPU_BASED_MONITOR_TRAP_FLAG) != 0) {
    S.pendingDbg = S.DR6_BS;
    return false;
  }
  S.pendingDbg = 0;
  return deliverSingleStep();
}

/** Delivers the single-step #DB at the current RIP (a trap); sets DR6.BS unless it VM-exits. */
export function deliverSingleStep(): bool {
  // A #DB that VM-exits leaves DR6 alone and reports BS in the exit qualification (Vol. 3C 27.1).
  const exited = deliver(1, 3, 0, false, S.rip, 0, S.DR6_BS);
  if (!exited) S.dr6 |= S.DR6_BS;
  return exited;
}

/** An instruction stopped early: a VM exit it requested, or an exception to deliver. */
function handleStop(len: u32, timerDeadline: u64): bool {
  if (exitReq >= 0) {
    if (S.halted) {
      // HLT without HLT exiting retires, then the CPU idles until the preemption timer fires.
      S.rip = S.nrip; S.insnsRetired++;
      if (timerDeadline != 0xffffffffffffffff && timerDeadline > S.vcycles) S.vcycles = timerDeadline;
      vmExit(V.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, 0, 0);
      return true;
    }
    vmExit(<u32>exitReq, exitQual, len);
    return true;
  }
  const vec = faultVec, type = faultType, err = faultErr, hasErr = faultHasErr, cr2v = faultCr2;
  clearStop();
  if (type == 4 || type == 5 || type == 6) {
    // INT n / INT1 / INT3 retire before their event is delivered.
    S.insnsRetired++;
    S.vcycles += <u64>opCost(D.OP_INT);
  }
  const exited = deliver(vec, type, err, hasErr, S.nrip, len, cr2v);
  clearStop();
  return exited;
}
