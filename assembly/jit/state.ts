// The Wasm locals of a compiled region (jit/gen.ts) and the CPU state they stand for while the
// region runs: the general-purpose registers (REGS), the retirement counters (S.insnsRetired,
// S.vcycles) and the lazy flags (flags.ts lfOp, lfA, lfB, lfRes, lfMask, lfCarry) live in locals,
// so an ALU operation costs register moves and not stores to the CPU's memory and globals. They
// are written back (syncOut) before the interpreter runs an instruction and whenever the region
// returns, and read again (syncIn) after the interpreter ran. The memory slow paths (helpers.ts
// jitRead/jitWrite: a page walk, a fault being recorded) read none of them.
import * as E from "./emit";
import { REGS } from "../layout";
import { STATUS_FLAGS } from "../state";

// Locals: the three parameters (the third, the block to start with, is then the current block),
// then N_I32 i32 locals, N_I64 i64 locals and N_F64 f64 locals.
export const P_SLICE_END: u32 = 0, P_DEADLINE: u32 = 1, L_BLK: u32 = 2;
export const L_CE: u32 = 3, L_X: u32 = 4, L_T: u32 = 5, L_STATUS: u32 = 6, L_FOP: u32 = 7;
export const N_I32: u32 = 5;
export const L_BASE: u32 = 8, L_LA: u32 = 9, L_V: u32 = 10, L_A: u32 = 11, L_B: u32 = 12, L_R: u32 = 13;
export const L_FA: u32 = 14, L_FB: u32 = 15, L_FR: u32 = 16, L_FMASK: u32 = 17, L_FCARRY: u32 = 18;
export const L_INS: u32 = 19, L_VC: u32 = 20;
/** flags.ts rflagsRest; the operands of a status not yet made concrete (deferStatus below). */
export const L_RFL: u32 = 21, L_SR: u32 = 22, L_SCO: u32 = 23;
/** The general-purpose registers RAX..R15 (state.ts gpr(n) is local L_GPR + n). */
export const L_GPR: u32 = 24;
export const N_I64: u32 = 16 + 16;
/** Scratch binary64 values of the SSE fast path (gen-sse.ts). */
export const L_DX: u32 = 40, L_DY: u32 = 41, L_DR: u32 = 42, L_DB: u32 = 43;
export const N_F64: u32 = 4;

/** The registers the region keeps in locals (bit n: register n); the others stay in REGS. */
export let regsInLocals: u32 = 0xffff;
export function setRegsInLocals(mask: u32): void { regsInLocals = mask; }
@inline export function inLocal(n: u32): bool { return (regsInLocals & (<u32>1 << n)) != 0; }

/** The locals' declaration at the head of the function body. */
export function declareLocals(): void {
  E.uleb(3); E.uleb(N_I32); E.byte(E.T_I32); E.uleb(N_I64); E.byte(E.T_I64); E.uleb(N_F64); E.byte(E.T_F64);
}

/** Registers, flags and counters to the CPU's memory and globals. */
export function syncOut(): void {
  for (let n: u32 = 0; n < 16; n++) if (inLocal(n)) { E.i32c(0); E.lget(L_GPR + n); E.storeI64(8, REGS + (<usize>n << 3)); }
  E.lget(L_INS); E.gset(E.G_INSNS); E.lget(L_VC); E.gset(E.G_VCYCLES);
  syncFlagsOut();
}
export function syncFlagsOut(): void {
  emitStatus(); // on the main path the caller settles it first (gen.ts, gen-int.ts)
  E.lget(L_RFL); E.gset(E.G_RFLAGS);
  E.lget(L_FOP); E.gset(E.G_LFOP); E.lget(L_FA); E.gset(E.G_LFA); E.lget(L_FB); E.gset(E.G_LFB);
  E.lget(L_FR); E.gset(E.G_LFRES); E.lget(L_FMASK); E.gset(E.G_LFMASK); E.lget(L_FCARRY); E.gset(E.G_LFCARRY);
}
/** Registers, flags and counters from the CPU's memory and globals. */
export function syncIn(): void {
  for (let n: u32 = 0; n < 16; n++) if (inLocal(n)) { E.i32c(0); E.loadI64(8, REGS + (<usize>n << 3)); E.lset(L_GPR + n); }
  E.gget(E.G_INSNS); E.lset(L_INS); E.gget(E.G_VCYCLES); E.lset(L_VC);
  E.gget(E.G_RFLAGS); E.lset(L_RFL);
  E.gget(E.G_LFOP); E.lset(L_FOP); E.gget(E.G_LFA); E.lset(L_FA); E.gget(E.G_LFB); E.lset(L_FB);
  E.gget(E.G_LFRES); E.lset(L_FR); E.gget(E.G_LFMASK); E.lset(L_FMASK); E.gget(E.G_LFCARRY); E.lset(L_FCARRY);
}

// ---- a status computed only where it can be seen ---------------------------------------------------
// Shifts and IMUL make the six status flags concrete (flags.ts setStatus). Their PF/ZF/SF are costly
// to compute and usually dead: the next ALU operation replaces them. So the operation leaves its
// result (L_SR) and CF|OF (L_SCO) and the status is computed where something could see it: a flag
// read, the interpreter, leaving the block or the region. An operation that sets a new lazy record
// first makes it unobservable (flags.ts ignores rflagsRest's status bits while lfOp != LF_NONE).
let statusPending: bool = false;
let statusSize: i32 = 8;

/** With CF|OF (RFLAGS bits) on the stack and the result in `r`: setStatus, deferred; lfOp = LF_NONE. */
export function deferStatus(r: u32, size: i32): void {
  E.lset(L_SCO); E.lget(r); E.lset(L_SR);
  E.i32c(0); E.lset(L_FOP); // LF_NONE
  statusPending = true; statusSize = size;
}
/** Emits the pending status into L_RFL (on a path that leaves; the state stays pending). */
export function emitStatus(): void {
  if (!statusPending) return;
  const bits = <i64>statusSize * 8;
  E.lget(L_SCO);
  E.lget(L_SR); E.i64c(0xff); E.op(E.I64_AND); E.op(E.I64_POPCNT); E.i64c(1); E.op(E.I64_AND); E.i64c(1); E.op(E.I64_XOR);
  E.i64c(2); E.op(E.I64_SHL); E.op(E.I64_OR);                                            // PF
  E.lget(L_SR); E.op(E.I64_EQZ); E.op(E.I64_EXTEND_I32_U); E.i64c(6); E.op(E.I64_SHL); E.op(E.I64_OR); // ZF
  E.lget(L_SR); E.i64c(bits - 1); E.op(E.I64_SHR_U); E.i64c(1); E.op(E.I64_AND); E.i64c(7); E.op(E.I64_SHL); E.op(E.I64_OR); // SF
  E.lget(L_RFL); E.i64c(~<i64>STATUS_FLAGS); E.op(E.I64_AND); E.op(E.I64_OR); E.lset(L_RFL);
}
/** Makes the pending status concrete here, on the main path. */
export function settleStatus(): void { emitStatus(); statusPending = false; }
/** A new lazy record: the pending status can no longer be seen. */
export function dropStatus(): void { statusPending = false; }
