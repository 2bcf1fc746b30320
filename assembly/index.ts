// The CPU's interface to the host: what a hypervisor has on real hardware
// (VMREAD/VMWRITE, VMRESUME, its own save area for the GPRs and the MSRs it
// context-switches) plus the machine memory it allocates from.
import { MACHINE_BASE, SCRATCH, DECODE_PROBE, DUMMY_READ, DUMMY_READ_BYTES, REGS, VMCS } from "./layout";
import * as V from "./vmcs";
import * as S from "./state";
import * as D from "./decode";
import * as E from "./ept";
import * as X from "./run/debug";
import * as M from "./mmu";
import * as J from "./jit/cache";
import { setMachineSize, tlbFlushAll, hostWroteMemory, hostWroteRange, invept as inveptAll } from "./mmu";
import { vmresume as run, postExternalInterrupt as post } from "./run/loop";
import { decodeCount, costsInit, setCost as setOpCost, decodeScratchBlock } from "./run/blocks";
import { rdmsr, wrmsr } from "./msr";
import { stop, clearStop, faultVec } from "./fault";
import { fxsaveImage, fxrstorImage, fxPowerOn } from "./x87/fxsave";
import { FX_IMAGE_BYTES } from "./shared/fxsave";
export { mmioEmulate, mmioEventInfo, mmioEventErrorCode, mmioEventCr2, mmioExitReason, mmioExitQualification,
  mmioExitGpa, mmioExitGla } from "./mmio";

/** Sets up the CPU with `machineBytes` of machine memory; returns false if Wasm memory cannot grow. */
export function init(machineBytes: u64): bool {
  const need = (MACHINE_BASE + <usize>machineBytes + 0xffff) >>> 16;
  const have = <usize>memory.size();
  if (need > have && memory.grow(<i32>(need - have)) < 0) return false;
  setMachineSize(machineBytes);
  V.vmcsInitFields();
  costsInit();
  fxPowerOn();
  memory.fill(DUMMY_READ, 0xff, DUMMY_READ_BYTES);
  tlbFlushAll();
  return true;
}

export function machineBase(): usize { return MACHINE_BASE; }
/** End of AssemblyScript's static data: the CPU's regions (layout.ts) must start above it. */
export function heapBase(): usize { return __heap_base; }
export function scratchBase(): usize { return SCRATCH; }

export function vmread(enc: u32): u64 { return V.vmcsRead(enc); }
export function vmwrite(enc: u32, value: u64): u32 { return V.vmcsWrite(enc, value, false); }
export function vmfieldExists(enc: u32): bool { return V.vmcsFieldExists(enc); }
export function vmresume(budget: u64): u32 { return run(budget); }
/**
 * How the host may read and write field `enc` in place, as VMREAD/VMWRITE do (Machine.vmread): its
 * slot's byte address (bits 23:0), its width (bits 25:24, as in the encoding) and whether it is
 * read-only (bit 26); 0 when the field does not exist. The host caches the answer per encoding.
 */
export function vmfieldAccess(enc: u32): u32 {
  if (!V.vmcsFieldExists(enc)) return 0;
  return <u32>(VMCS + (V.slotOf(enc) << 3)) | (V.widthOf(enc) << 24) | (V.isReadOnly(enc) ? <u32>1 << 26 : 0);
}
/** The GPR save area (16 x u64 by encoding): the host reads and writes it in place. */
export function regsBase(): usize { return REGS; }

export function getCr2(): u64 { return S.cr2; }
export function setCr2(v: u64): void { S.cr2 = v; }
export function getCr8(): u64 { return S.cr8; }
export function getXcr0(): u64 { return S.xcr0; }
export function setXcr0(v: u64): void { S.xcr0 = v; }

/** RDMSR/WRMSR on the host's behalf (emulating a guest access after an MSR exit). */
export function hostRdmsr(msr: u32): u64 { return rdmsr(msr); }
export function hostWrmsr(msr: u32, v: u64): bool {
  clearStop(); wrmsr(msr, v);
  const ok = !stop; clearStop(); return ok;
}

/** The x87/SSE state as a standard FXSAVE image in the scratch buffer (x87/fxsave.ts); returns its address. */
export function fxStateSave(): usize { memory.fill(SCRATCH, 0, FX_IMAGE_BYTES); fxsaveImage(SCRATCH); return SCRATCH; }
/** Loads the x87/SSE state from the FXSAVE image the host placed in the scratch buffer. */
export function fxStateLoad(): void { fxrstorImage(SCRATCH); }

export function insnsRetired(): u64 { return S.insnsRetired; }
export function vcycles(): u64 { return S.vcycles; }
/** The hypervisor charges virtual time for work the guest does not execute (exits, handlers). */
export function addVcycles(n: u64): void { S.vcycles += n; }
export function setCost(op: i32, cycles: u32): void { setOpCost(op, cycles); }

export function postExternalInterrupt(vector: i32): void { post(vector); }

/** The host wrote machine memory, anywhere: drop all decoded instructions and TLB entries. */
export function invalidateCode(): void { hostWroteMemory(); }
/** The host wrote machine memory [hpa, hpa+len): drop the decoded instructions on those frames, and the TLB. */
export function invalidateCodeRange(hpa: u64, len: u64): void { hostWroteRange(hpa, len); }
export function flushTlb(): void { tlbFlushAll(); }
/** INVEPT, all-context: the host changed EPT entries or the EPTP list. */
export function invept(): void { inveptAll(); }

/**
 * Decodes the instruction in the scratch buffer (64-bit mode) without executing it:
 * the length, or -1 where the CPU would raise #UD or #GP (too long).
 */
export function decodeLength(): i32 {
  const e = DECODE_PROBE;
  D.decodeFromScratch = true;
  clearStop();
  D.decode(e, 0);
  D.decodeFromScratch = false;
  const op = load<u16>(e, D.D_OP);
  if (op == D.OP_UD || op == D.OP_TOOLONG) return -1;
  return <i32>load<u8>(e, D.D_LEN);
}

/** Decodes the scratch buffer as one block (as the run loop would): the number of instructions in it. */
export function decodeBlock(): u32 { return decodeScratchBlock(); }

/** Host-side page walk for debuggers and VMI: guest-physical address or -1 (no side effects). */
export function translateLinear(la: u64): i64 { return M.probeLinear(la); }

/** 64-bit FNV-1a over machine memory [hpa, hpa+len): lets the host fingerprint guest memory quickly. */
export function fnv1a64(hpa: u64, len: u32): u64 {
  let h: u64 = 0xcbf29ce484222325;
  const p = MACHINE_BASE + <usize>hpa;
  for (let i: u32 = 0; i < len; i++) {
    h ^= <u64>load<u8>(p + <usize>i);
    h *= 0x100000001b3;
  }
  return h;
}

/** Instructions decoded so far (decoded-instruction cache misses). */
export function decodes(): u64 { return decodeCount; }

/** EPT walk on the host's behalf (no side effects): host-physical address, or -48/-49 (see eptProbeQual). */
export function eptProbe(eptp: u64, gpa: u64, kind: i32): i64 { return E.eptProbe(eptp, gpa, kind, M.machineSize); }
export function eptProbeQual(): u64 { return E.probeQual; }

// The host debugger's breakpoints (see run/debug.ts): not architectural state.
export function debugBreakpointTable(): usize { return X.breakpointTable(); }
export function debugSetBreakpoints(n: i32): void { X.setBreakpoints(n); }
export function debugBreakOnVmfunc(on: bool): void { X.setBreakOnVmfunc(on); }
export function debugSkipOnce(): void { X.skipBreakpointOnce(); }

// ---- the JIT (assembly/jit/; the host side is src/jit/) ----
// What a compiled region imports besides the memory: the helpers and, in emit.ts's order (g0..g15),
// the globals it reads and writes.
export { jitStep, jitRead, jitWrite, jitTestCC, jitStepSse } from "./jit/helpers";
export { insnsRetired as jit_g0, vcycles as jit_g1, rip as jit_g2, nrip as jit_g3, cr0 as jit_g16, cr4 as jit_g17 } from "./state";
export { lfOp as jit_g4, lfA as jit_g5, lfB as jit_g6, lfRes as jit_g7, lfMask as jit_g8, lfCarry as jit_g14, rflagsRest as jit_g15 } from "./flags";
export { codeEpoch as jit_g9 } from "./codepages";
export { tlbR as jit_g10, tlbW as jit_g11, tlbBias as jit_g12, tlbX as jit_g18 } from "./mmu";
export { stop as jit_g13 } from "./fault";
export { setJit, jitFlush } from "./jit/cache";
/** The JIT's counters: 0 regions compiled, 1 entries that cannot start one, 2 flushes, 3 calls of
 *  compiled regions, 4 instructions retired in them, 5 entries left to the interpreter after their
 *  probe calls ran too few instructions each. */
export function jitStat(i: i32): f64 {
  return i == 0 ? <f64>J.regionsCompiled : i == 1 ? <f64>J.regionsRefused : i == 2 ? <f64>J.flushes : i == 3 ? <f64>jitCalls
    : i == 4 ? <f64>jitInsns : i == 5 ? <f64>jitDemoted : i == 6 ? <f64>JH.steps : i == 7 ? <f64>JH.slowAccesses : <f64>J.otherPages;
}
import * as JH from "./jit/helpers";
import { jitCalls, jitInsns, jitDemoted } from "./run/loop";
