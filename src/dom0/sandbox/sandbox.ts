// The VMI program sandbox: runs one VMI program (a WASI command module
// importing `libvmi`, abi.ts) to its end against a `Vmi`, in a fresh
// instance, under limits, and reports what happened. The program always
// runs in a sandbox thread of its own (pool.ts, worker.mjs) and its libvmi
// calls are synchronous RPCs served on this thread between Dom0's other
// work (rpc.ts). In 'worker' mode (the default) it runs concurrently with
// whatever this thread does; 'inline' runs are taken one at a time, in the
// order asked, each to its end before the next starts, so that a caller
// who waits for each (pause mode: the guest waits) sees the same run every
// time; in 'vtime' mode each call waits for a ProgramClock (src/dom0/vtime.ts:
// the guest is run to the call's virtual instant first) and the program's
// progress measure is counted. The paper's launcher starts a LibVMI program
// as a process; the sandbox is that process's stand-in.
//
// Limits, the same in every mode (DEFAULT_VMI_LIMITS): wall-clock time (the
// thread is terminated: loops and output floods end; in 'vtime' mode the
// clock checks the limit in virtual time at each call, and a host watchdog
// of at least VTIME_WATCHDOG_MIN_MS, counting only the time the program
// runs, not the time it waits for Dom0, stops loops without calls), an
// optional number of libvmi calls, the program's linear memory (the
// module's memory maximum is lowered to the limit before compiling,
// rewrite.ts, so memory.grow fails past it), the thread's JS heap, and
// captured output (output.ts). A trap (unreachable, out-of-bounds access,
// stack exhaustion, a bad pointer passed to libvmi) is reported with its
// message and Wasm frame. Every failure is reported in the result; the
// promise does not reject for anything a program does. Pauses a program
// leaves behind are undone.
import { basename } from 'node:path';
import type { Vmi } from '../libvmi/index.js';
import { ABI_DATA, LIBVMI_ABI, type HostResult } from './abi.js';
import { WASM_PAGE_BYTES } from './rewrite.js';
import { compileProgram } from './module-cache.js';
import { DEFAULT_VMI_LIMITS } from './limits.js';
import { INSN_COUNTER_EXPORT } from './insn-counter.js';
import { WorkerPool, type SandboxOptions } from './pool.js';
import { RpcServer, CTL_LAYOUT, DATA_SIZE } from './rpc.js';
import { SharedOutput, OUT_LAYOUT, writeOutFiles } from './output.js';

export type SandboxErrorKind = 'trap' | 'timeout' | 'call-limit' | 'load' | 'sandbox' | 'error';

export interface SandboxResult {
  /** The program's exit code, or null if it did not exit (trap, limit, load failure). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Host wall-clock nanoseconds from the request (the call) to the result. */
  hostNs: number;
  /** Host nanoseconds from the request to the program's first libvmi call (the launch overhead), if it made one. */
  launchNs?: number;
  /** libvmi calls served (a read or write larger than the 1 MiB transfer window counts once per window). */
  calls: number;
  /** Why the program did not finish normally: one line. */
  error?: string;
  errorKind?: SandboxErrorKind;
  /** Host paths of the files the program wrote to /out, copied to `outDir`. */
  files: string[];
  /** Pauses the program left in place (vmi_pause_vm without vmi_resume_vm), undone by the sandbox. */
  pausesReleased: number;
  /** 'vtime' mode: the Wasm instructions the program executed (insn-counter.ts), as last reported. */
  insns?: number;
}

/**
 * Modelled time for a program in 'vtime' mode (src/dom0/vtime.ts implements it): the sandbox
 * reports each libvmi call with the program's progress so far and serves it once the clock says so.
 */
export interface ProgramClock {
  /**
   * The program makes its call number `calls` (1, 2, ...) after executing `insns` Wasm instructions;
   * resolves when Dom0 may serve it (the guest has run to its instant), false when its time limit passed first.
   */
  call(calls: number, insns: number): Promise<boolean>;
}

export interface SandboxRunOptions {
  /** The full argv, argv[0] first: e.g. ["process-list", "1", "11"] as the paper's launcher passes. Default [program name]. */
  args?: string[];
  env?: Record<string, string>;
  /** Wall-clock limit in ms, from the program's start (default DEFAULT_VMI_LIMITS.timeLimitMs). */
  timeLimitMs?: number;
  /** Maximum number of libvmi calls (default: none). */
  maxCalls?: number;
  /** Maximum linear memory of the program in MiB (default DEFAULT_VMI_LIMITS.memoryLimitMiB). */
  memoryLimitMiB?: number;
  /** Bytes of stdout and of stderr kept (default DEFAULT_VMI_LIMITS.maxOutputBytes each). */
  maxOutputBytes?: number;
  /** Host directory receiving the files the program writes to its preopened /out. */
  outDir?: string;
  /** Bytes the program may write to files in all (they are held in memory until the end; default DEFAULT_VMI_LIMITS.maxFileBytes). */
  maxFileBytes?: number;
  /**
   * 'worker' (default): a sandbox thread, concurrent with this thread.
   * 'inline': a sandbox thread too, but one inline run at a time, in the order
   * asked (deterministic when the caller waits for it: tests, pause mode).
   * 'vtime': a sandbox thread whose calls wait for `clock` (Dom0 on virtual time).
   */
  mode?: 'worker' | 'inline' | 'vtime';
  /** 'vtime' mode: when each call may be served. The clock's owner undoes pauses left behind, at the program's end. */
  clock?: ProgramClock;
}

// The messages keep the "VMI launcher:" prefix they had before the sandbox was named: users match them.
function checkOptions(o: SandboxRunOptions): void {
  const posInt = (v: unknown, what: string) => {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)) {
      throw new RangeError(`VMI launcher: ${what} must be a positive number, got ${String(v)}`);
    }
  };
  posInt(o.timeLimitMs, 'timeLimitMs');
  posInt(o.maxCalls, 'maxCalls');
  posInt(o.memoryLimitMiB, 'memoryLimitMiB');
  posInt(o.maxOutputBytes, 'maxOutputBytes');
  posInt(o.maxFileBytes, 'maxFileBytes');
  if (o.args !== undefined && (!Array.isArray(o.args) || o.args.some((a) => typeof a !== 'string'))) {
    throw new TypeError('VMI launcher: args must be an array of strings (argv, program name first)');
  }
  if (o.mode !== undefined && o.mode !== 'worker' && o.mode !== 'inline' && o.mode !== 'vtime') {
    throw new TypeError(`VMI launcher: mode must be "worker" or "inline" (or "vtime" with a clock), got ${String(o.mode)}`);
  }
  if (o.mode === 'vtime' && !o.clock) throw new TypeError('VMI launcher: mode "vtime" needs a clock');
}

/**
 * 'vtime' mode: the host watchdog's least period, ms. The limit is kept in virtual time at each call;
 * the watchdog only catches a program that never calls again (a loop), so it must not race a program
 * that is merely slow on a loaded host.
 */
export const VTIME_WATCHDOG_MIN_MS = 1000;

const callLimitMessage = (calls: number, max: number) => `call limit: stopped at libvmi call ${calls} (the limit is ${max})`;
const timeLimitMessage = (ms: number) => `time limit: stopped after ${ms} ms (the program was still running)`;

/** Runs VMI programs; one instance serves many launches (and keeps the spare thread, if asked). */
export class Sandbox {
  private readonly pool: WorkerPool;
  /** The last inline run (the next waits for it). */
  private inlineTail: Promise<unknown> = Promise.resolve();

  constructor(opts: SandboxOptions = {}) {
    this.pool = new WorkerPool(opts);
  }

  /** Stops the spare worker, if any. */
  close(): Promise<void> { return this.pool.close(); }

  /**
   * Runs `program` (a path, module bytes or a compiled module) against `vmi`.
   * Rejects only for invalid options; everything the program does is in the result.
   */
  async run(program: string | Uint8Array | WebAssembly.Module, vmi: Vmi, o: SandboxRunOptions = {}): Promise<SandboxResult> {
    const t0 = process.hrtime.bigint();
    checkOptions(o);
    const since = () => Number(process.hrtime.bigint() - t0);
    const fail = (kind: SandboxErrorKind, error: string): SandboxResult =>
      ({ exitCode: null, stdout: '', stderr: '', hostNs: since(), calls: 0, error, errorKind: kind, files: [], pausesReleased: 0 });
    const maxPages = Math.floor(((o.memoryLimitMiB ?? DEFAULT_VMI_LIMITS.memoryLimitMiB) * 2 ** 20) / WASM_PAGE_BYTES);
    if (maxPages < 1) throw new RangeError('VMI launcher: memoryLimitMiB must allow at least one 64 KiB page');
    let module: WebAssembly.Module;
    try {
      module = compileProgram(program, maxPages, o.mode === 'vtime');
    } catch (e) {
      return fail('load', (e as Error).message);
    }
    const argv = o.args ?? [typeof program === 'string' ? basename(program).replace(/\.wasm$/, '') : 'vmi-program'];
    if (argv.length === 0) throw new TypeError('VMI launcher: args must contain at least the program name');
    const opts = {
      ...o, argv,
      timeLimitMs: Math.min(o.timeLimitMs ?? DEFAULT_VMI_LIMITS.timeLimitMs, 2 ** 31 - 1),        // setTimeout's range
      maxOutputBytes: Math.max(1, Math.floor(o.maxOutputBytes ?? DEFAULT_VMI_LIMITS.maxOutputBytes)),
      maxFileBytes: o.maxFileBytes ?? DEFAULT_VMI_LIMITS.maxFileBytes,
    };
    if (opts.mode !== 'inline') return this.runWorker(module, vmi, opts, t0);
    // One inline run at a time: this one starts (and its time limit runs) when the one before has ended.
    const r = this.inlineTail.then(() => this.runWorker(module, vmi, opts, process.hrtime.bigint()));
    this.inlineTail = r.catch(() => {});
    return r;
  }

  private async runWorker(module: WebAssembly.Module, vmi: Vmi,
    o: SandboxRunOptions & { argv: string[]; timeLimitMs: number; maxOutputBytes: number }, t0: bigint): Promise<SandboxResult> {
    const since = () => Number(process.hrtime.bigint() - t0);
    const rpc = new RpcServer();
    const output = new SharedOutput(o.maxOutputBytes);
    const thread = this.pool.take();
    const worker = thread.worker;
    worker.ref();

    let calls = 0;
    let launchNs: number | undefined;
    let finished = false;
    const clock = o.mode === 'vtime' ? o.clock : undefined;
    let insns = 0;   // 'vtime': the program's instruction count, as last reported

    return new Promise<SandboxResult>((resolveRun) => {
      let timer: NodeJS.Timeout | undefined;
      const timeLimit = () => finish({ exitCode: null, errorKind: 'timeout', error: timeLimitMessage(o.timeLimitMs) });
      const finish = (r: { exitCode: number | null; error?: string; errorKind?: SandboxErrorKind; files?: Array<{ name: string; data: Uint8Array }> }) => {
        if (finished) return;
        finished = true;
        if (timer) clearTimeout(timer);
        // Unblock a worker waiting for a reply, wake our own waiter, stop the thread.
        rpc.abort();
        worker.removeAllListeners('message');
        worker.on('error', () => {});
        void worker.terminate().catch(() => {});
        // 'vtime': the program holds its pauses to its end's virtual instant; the clock's owner undoes them then.
        const pausesReleased = clock ? 0 : vmi.releasePauses();
        let files: string[] = [];
        let error = r.error, errorKind = r.errorKind;
        if (r.files && r.files.length > 0) {
          try {
            files = writeOutFiles(r.files, o.outDir);
          } catch (e) {
            error ??= `cannot write the program's files: ${(e as Error).message}`;
            errorKind ??= 'error';
          }
        }
        const res: SandboxResult = {
          exitCode: r.exitCode, stdout: output.text(0), stderr: output.text(1), hostNs: since(), calls, files, pausesReleased,
        };
        if (launchNs !== undefined) res.launchNs = launchNs;
        if (error !== undefined) { res.error = error; res.errorKind = errorKind; }
        if (clock) res.insns = insns;
        resolveRun(res);
      };

      // One libvmi call, read from the control block; undefined when it ended the run.
      const onCall = (): HostResult | undefined | Promise<HostResult | undefined> => {
        calls++;
        if (calls === 1) launchNs = since();
        if (o.maxCalls !== undefined && calls > o.maxCalls) {
          finish({ exitCode: null, errorKind: 'call-limit', error: callLimitMessage(calls, o.maxCalls) });
          return undefined;
        }
        const op = rpc.op();
        const spec = LIBVMI_ABI[op];
        if (!spec) {
          finish({ exitCode: null, errorKind: 'sandbox', error: `sandbox protocol error: unknown libvmi op ${op}` });
          return undefined;
        }
        const { vals, input, cap } = rpc.args(op);
        const serve = (): HostResult | undefined => {
          try {
            return spec.host(vmi, vals, input, cap);
          } catch (e) {
            finish({ exitCode: null, errorKind: 'error', error: `Dom0 failed serving libvmi.${spec.name}: ${(e as Error).message}` });
            return undefined;
          }
        };
        if (!clock) return serve();
        // The program waits for Dom0 (the guest runs to the call's instant): the watchdog sleeps meanwhile.
        clearTimeout(timer);
        insns = Number(rpc.insns());
        return clock.call(calls, insns).then((ok) => {
          if (finished) return undefined;
          if (!ok) { timeLimit(); return undefined; }
          const r = serve();
          if (!finished) armWatchdog();
          return r;
        });
      };
      // 'vtime': the watchdog runs only while the program does (from its start, between calls).
      const armWatchdog = () => { timer = setTimeout(timeLimit, Math.max(o.timeLimitMs, VTIME_WATCHDOG_MIN_MS)); };


      worker.on('error', (e: Error) => {
        const oom = (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
        finish({ exitCode: null, errorKind: 'sandbox', error: oom ? 'the sandbox ran out of heap memory' : `the sandbox failed: ${e.message}` });
      });
      worker.on('exit', (code: number) => {
        finish({ exitCode: null, errorKind: 'sandbox', error: `the sandbox exited unexpectedly (code ${code})` });
      });
      // When the program's own code starts to run (worker.mjs 'started'), the time limit starts afresh.
      let started = process.hrtime.bigint();
      worker.on('message', (m: { type?: string; exitCode: number | null; error?: { kind: string; message: string }; files?: Array<{ name: string; data: Uint8Array }>; insns?: bigint }) => {
        if (m?.type === 'started' && !finished) {
          started = process.hrtime.bigint();
          if (!clock) { clearTimeout(timer); timer = setTimeout(timeLimit, o.timeLimitMs); }
          return;
        }
        if (m?.type !== 'done') return;
        if (m.insns !== undefined) insns = Number(m.insns);
        const kind: SandboxErrorKind | undefined = m.error ? (m.error.kind === 'trap' ? 'trap' : 'error') : undefined;
        finish({ exitCode: m.exitCode, error: m.error?.message, errorKind: kind, files: m.files });
      });

      void thread.ready.then((why) => {
        if (finished) return;
        if (why !== undefined) {
          finish({ exitCode: null, errorKind: 'sandbox', error: why });
          return;
        }
        try {
          worker.postMessage({
            module, argv: o.argv, env: o.env ?? {}, abi: ABI_DATA, ctlLayout: CTL_LAYOUT, outLayout: OUT_LAYOUT,
            ctl: rpc.buffer, out: output.buffer, dataSize: DATA_SIZE, outSize: output.size, maxFileBytes: o.maxFileBytes,
            insnCounter: clock ? INSN_COUNTER_EXPORT : undefined,
          });
        } catch (e) {
          finish({ exitCode: null, errorKind: 'sandbox', error: `cannot hand the program to the sandbox: ${(e as Error).message}` });
          return;
        }
        // The time limit runs from the hand-over of the job (and afresh from the program's start,
        // above), so that a loaded host's slow thread start-up is not charged to the program.
        started = process.hrtime.bigint();
        if (clock) armWatchdog();
        else timer = setTimeout(timeLimit, o.timeLimitMs);
        // 'vtime': waits for the next call without end (the watchdog or the program's end stops it).
        rpc.serve(onCall, clock ? () => Infinity : () => o.timeLimitMs - Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
  }
}

let defaultSandbox: Sandbox | undefined;

/** Runs a VMI program in a shared default sandbox (no spare worker). See Sandbox.run. */
export function runInSandbox(program: string | Uint8Array | WebAssembly.Module, vmi: Vmi, opts: SandboxRunOptions = {}): Promise<SandboxResult> {
  defaultSandbox ??= new Sandbox();
  return defaultSandbox.run(program, vmi, opts);
}
