// The call protocol between a sandbox thread and Dom0's thread, Dom0's end.
// A program's libvmi call is a synchronous RPC through one SharedArrayBuffer
// (the control block): the worker (worker.mjs) writes the op, the scalar
// arguments and any input, bumps REQ and sleeps in Atomics.wait until RESP
// moves; Dom0 waits for REQ with Atomics.waitAsync (its event loop stays
// free for the guest), runs the host function (at once, or once the guest
// has run to the call's virtual instant), writes the result and bumps
// RESP. ST_ABORT in STATUS instead tells the worker the run is over. The
// layout is defined here once and travels to the worker with each job.
import { LIBVMI_ABI, SCALARS, type HostResult, type Scalar } from './abi.js';

/** The transfer window: the most bytes one call moves each way (the program's side splits larger reads and writes). */
export const DATA_SIZE = 1 << 20;

/** The control block: Int32 indices, byte offsets, BigInt64 slots (from ARGS_BYTE) and STATUS values. */
export const CTL_LAYOUT = {
  REQ: 0, RESP: 1, OP: 2, NARGS: 3, INLEN: 4, CAP: 5, OUTLEN: 6, STATUS: 7,
  ARGS_BYTE: 64, INSN_SLOT: 5, RET_SLOT: 6, VALUE_SLOT: 7, DATA_BYTE: 128,
  ST_OK: 0, ST_ABORT: 1,
} as const;
const { REQ, RESP, OP, INLEN, CAP, OUTLEN, STATUS, ARGS_BYTE, INSN_SLOT, RET_SLOT, VALUE_SLOT, DATA_BYTE, ST_OK, ST_ABORT } = CTL_LAYOUT;

type WaitAsync = (a: Int32Array, i: number, v: number, t?: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** Dom0's end of one run's control block. */
export class RpcServer {
  readonly buffer = new SharedArrayBuffer(DATA_BYTE + DATA_SIZE);
  private readonly ctl = new Int32Array(this.buffer, 0, 16);
  private readonly bigs = new BigInt64Array(this.buffer, ARGS_BYTE, 8);
  private readonly data = new Uint8Array(this.buffer, DATA_BYTE, DATA_SIZE);
  private seen = 0;
  private stopped = false;

  /** The program's instruction count at the pending call ('vtime' mode: insn-counter.ts; else 0). */
  insns(): bigint { return this.bigs[INSN_SLOT]; }

  /** The pending call's op (an index into LIBVMI_ABI, unchecked). */
  op(): number { return Atomics.load(this.ctl, OP); }

  /** The pending call's scalar arguments (as the op's kinds say), its input (for 'str'/'in' ops) and output capacity. */
  args(op: number): { vals: Scalar[]; input: Uint8Array | null; cap: number } {
    const vals: Scalar[] = SCALARS[op].map((k, j) => (k === 'i64' ? BigInt.asUintN(64, this.bigs[j]) : Number(BigInt.asIntN(32, this.bigs[j]))));
    const inLen = Atomics.load(this.ctl, INLEN);
    const params = LIBVMI_ABI[op].params;
    const input = params.includes('str') || params.includes('in') ? this.data.slice(0, inLen) : null;
    return { vals, input, cap: Math.min(Atomics.load(this.ctl, CAP), DATA_SIZE) };
  }

  /** Answers the pending call and wakes the worker. */
  private reply(r: HostResult): void {
    const cap = Math.min(Atomics.load(this.ctl, CAP), DATA_SIZE);
    this.bigs[RET_SLOT] = BigInt.asIntN(64, BigInt(r.ret));
    this.bigs[VALUE_SLOT] = BigInt.asIntN(64, r.value ?? 0n);
    const d = r.data ? r.data.subarray(0, Math.min(cap, DATA_SIZE)) : undefined;
    if (d) this.data.set(d);
    Atomics.store(this.ctl, OUTLEN, d ? d.length : 0);
    Atomics.store(this.ctl, STATUS, ST_OK);
    Atomics.add(this.ctl, RESP, 1);
    Atomics.notify(this.ctl, RESP);
  }

  /** Ends the run: unblocks a worker waiting for a reply (it sees ST_ABORT) and wakes our own waiter. */
  abort(): void {
    this.stopped = true;
    Atomics.store(this.ctl, STATUS, ST_ABORT);
    Atomics.add(this.ctl, RESP, 1);
    Atomics.notify(this.ctl, RESP);
    Atomics.notify(this.ctl, REQ);
  }

  /**
   * Serves calls until abort(): `onCall` answers each (it may read op() and
   * args()), or returns undefined after ending the run. Stops waiting when
   * `remainingMs` has passed (the caller's timer ends the run then).
   */
  serve(onCall: () => HostResult | undefined | Promise<HostResult | undefined>, remainingMs: () => number): void {
    while (!this.stopped) {
      const w = waitAsync(this.ctl, REQ, this.seen, Math.max(1, remainingMs()));
      if (w.async) {
        w.value.then(() => this.serve(onCall, remainingMs), () => this.serve(onCall, remainingMs));
        return;
      }
      if (w.value !== 'not-equal') return;   // timed out: the timer ends the run
      this.seen = Atomics.load(this.ctl, REQ);
      const r = onCall();
      if (r instanceof Promise) {
        // Answered later (Dom0 on virtual time): the worker sleeps until then.
        void r.then((x) => { if (x !== undefined && !this.stopped) this.reply(x); this.serve(onCall, remainingMs); });
        return;
      }
      if (r !== undefined) this.reply(r);
    }
  }
}
