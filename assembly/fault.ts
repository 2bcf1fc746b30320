// How an instruction stops early. The interpreter has no unwinding: a memory
// access or check that faults records the exception here and sets `stop`;
// every handler returns as soon as `stop` is set, before it changes state.
// A VM exit requested by an instruction is recorded the same way.

export let stop: bool = false;
export let faultVec: i32 = -1;
export let faultErr: u32 = 0;
export let faultHasErr: bool = false;
export let faultCr2: u64 = 0;       // linear address for #PF
export let faultType: u32 = 3;      // interruption type: 3 hardware exception, 4 INT n, 5 INT1, 6 INT3/INTO
export let exitReq: i32 = -1;       // basic exit reason requested by the instruction
export let exitQual: u64 = 0;
export let exitInstrInfo: u32 = 0;

export function raise(vec: i32, err: u32, hasErr: bool): void {
  if (faultVec >= 0 || exitReq >= 0) return; // first event wins within one instruction
  faultVec = vec; faultErr = err; faultHasErr = hasErr; faultType = 3; stop = true;
}
/** INT n (type 4), INT1 (type 5) and INT3 (type 6): events that return after the instruction. */
export function raiseSoft(vec: i32, type: u32): void {
  if (faultVec >= 0 || exitReq >= 0) return;
  faultVec = vec; faultErr = 0; faultHasErr = false; faultType = type; faultCr2 = 0; stop = true;
}
@inline export function raiseGP(err: u32): void { raise(13, err, true); }
@inline export function raiseUD(): void { raise(6, 0, false); }
export function raisePF(la: u64, err: u32): void {
  if (faultVec >= 0 || exitReq >= 0) return;
  faultCr2 = la; raise(14, err, true);
}

/** An instruction that exits to the hypervisor (SDM 25.1 / 26): state is left untouched. */
export function requestExit(reason: i32, qual: u64): void {
  if (faultVec >= 0 || exitReq >= 0) return;
  exitReq = reason; exitQual = qual; stop = true;
}

export function clearStop(): void {
  stop = false; faultVec = -1; exitReq = -1; faultType = 3; faultHasErr = false; exitQual = 0; exitInstrInfo = 0;
}
