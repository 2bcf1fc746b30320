// A sandbox thread's entry (see pool.ts): it initialises the WASI library,
// says `ready`, takes one job, runs it with runtime.mjs, posts `done` and is
// terminated. Every libvmi call is a synchronous RPC to Dom0's main thread
// through a SharedArrayBuffer (the program's end of rpc.ts): the request
// goes in, REQ is bumped and notified, and this thread sleeps in
// Atomics.wait until RESP moves. Output is appended to a shared buffer
// (output.ts) as it is written, so the main thread has it even if it has to
// stop this thread. Both layouts come with the job.
import { parentPort, workerData } from 'node:worker_threads';
import { init, initSync } from '@wasmer/wasi';
import { runProgram, warmUp } from './runtime.mjs';

// With the compiled library from Dom0 the synchronous init is a plain instantiation;
// the asynchronous one is an order of magnitude slower in a fresh thread.
if (workerData?.wasmerModule) initSync(workerData.wasmerModule);
else await init();
// A spare thread (started ahead of a request) warms the set-up path once with an empty
// command, so that the program's own set-up does not run it cold; nothing of it is kept.
if (workerData?.warmUp) {
  try { warmUp(); } catch { /* only an optimisation */ }
}
parentPort.postMessage({ type: 'ready' });

parentPort.once('message', (job) => {
  const { REQ, RESP, OP, NARGS, INLEN, CAP, OUTLEN, STATUS, ARGS_BYTE, INSN_SLOT, RET_SLOT, VALUE_SLOT, DATA_BYTE, ST_ABORT } = job.ctlLayout;
  const { LEN, DROPPED_BYTE, DATA_BYTE: OUT_DATA_BYTE } = job.outLayout;
  const ctl = new Int32Array(job.ctl, 0, 16);
  const big = new BigInt64Array(job.ctl, ARGS_BYTE, 8);
  const data = new Uint8Array(job.ctl, DATA_BYTE, job.dataSize);
  const outCtl = new Int32Array(job.out, 0, 8);
  const outDropped = new BigInt64Array(job.out, DROPPED_BYTE, 2);
  const outBytes = [new Uint8Array(job.out, OUT_DATA_BYTE, job.outSize), new Uint8Array(job.out, OUT_DATA_BYTE + job.outSize, job.outSize)];

  // The program's instruction count (Dom0 on virtual time: insn-counter.ts), sent with each call.
  let insns = () => 0n;
  const callHost = (op, vals, input, cap) => {
    big[INSN_SLOT] = insns();
    Atomics.store(ctl, OP, op);
    Atomics.store(ctl, NARGS, vals.length);
    for (let j = 0; j < vals.length; j++) big[j] = BigInt(vals[j]);
    if (input) data.set(input);
    Atomics.store(ctl, INLEN, input ? input.length : 0);
    Atomics.store(ctl, CAP, cap);
    const resp = Atomics.load(ctl, RESP);
    Atomics.add(ctl, REQ, 1);
    Atomics.notify(ctl, REQ);
    while (Atomics.load(ctl, RESP) === resp) Atomics.wait(ctl, RESP, resp);
    if (Atomics.load(ctl, STATUS) === ST_ABORT) {
      const e = new Error('stopped by Dom0');
      e.vmiAbort = true;
      throw e;
    }
    const n = Atomics.load(ctl, OUTLEN);
    return { ret: big[RET_SLOT], value: big[VALUE_SLOT], data: n > 0 ? data.slice(0, n) : undefined };
  };

  // stdout -> stream 0, stderr -> stream 1; bytes beyond the size are counted, not kept.
  const out = (fd, bytes) => {
    const s = fd === 1 ? 0 : 1;
    const len = Atomics.load(outCtl, LEN + s);
    const room = job.outSize - len;
    const n = Math.min(room, bytes.length);
    if (n > 0) outBytes[s].set(bytes.subarray(0, n), len);
    Atomics.store(outCtl, LEN + s, len + n);
    if (n < bytes.length) Atomics.add(outDropped, s, BigInt(bytes.length - n));
  };

  const r = runProgram({
    module: job.module, argv: job.argv, env: job.env, abi: job.abi, callHost, out,
    maxChunk: job.dataSize, maxFileBytes: job.maxFileBytes,
    insnCounter: job.insnCounter, onInsnCounter: (get) => { insns = get; },
    // Dom0 starts the program's time limit afresh now: its thread's start-up is not the program's time.
    onStart: () => parentPort.postMessage({ type: 'started' }),
  });
  const files = r.files.map((f) => ({ name: f.name, data: f.data }));
  parentPort.postMessage({ type: 'done', exitCode: r.exitCode, error: r.error, files, insns: insns() }, files.map((f) => f.data.buffer));
});
