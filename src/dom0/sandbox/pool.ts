// Sandbox threads (node:worker_threads, running worker.mjs): every launch
// gets a fresh thread, terminated when its program ends, so nothing of one
// program survives into the next. What is kept is at most one spare thread
// (`prewarm`) with the WASI library initialised and its set-up path run
// once on an empty command: a launch that takes it skips thread start-up
// (~100 ms -> ~10 ms), and a new spare starts at once for the next launch.
// Each thread has its own JS heap limit and never writes to Dom0's console.
import { Worker } from 'node:worker_threads';
import { sandboxFile, wasiLibraryModule } from './module-cache.js';
import { DEFAULT_VMI_LIMITS } from './limits.js';

export interface SandboxOptions {
  /** Keep one spare worker with the WASI library loaded (no program), so a launch skips thread start-up. */
  prewarm?: boolean;
  /** The worker's JS heap limit in MiB (default DEFAULT_VMI_LIMITS.heapLimitMiB). */
  heapLimitMiB?: number;
}

/** One sandbox thread; `ready` resolves with undefined once it can take a job, or with why it never will. */
export interface SandboxThread { worker: Worker; ready: Promise<string | undefined>; alive: boolean }

export class WorkerPool {
  private spare?: SandboxThread;
  private closed = false;
  private readonly heapMiB: number;

  constructor(private readonly opts: SandboxOptions = {}) {
    this.heapMiB = opts.heapLimitMiB ?? DEFAULT_VMI_LIMITS.heapLimitMiB;
    if (opts.prewarm) this.spare = this.spawn(true);
  }

  /** Stops the spare worker, if any. */
  async close(): Promise<void> {
    this.closed = true;
    const s = this.spare;
    this.spare = undefined;
    if (s) await s.worker.terminate();
  }

  /** A thread for one launch: the spare if it is alive, else a new one; with prewarm, the next spare starts now. */
  take(): SandboxThread {
    let thread: SandboxThread;
    if (this.spare && this.spare.alive && !this.closed) {
      thread = this.spare;
      this.spare = undefined;
    } else {
      thread = this.spawn();
    }
    if (this.opts.prewarm && !this.closed) this.spare = this.spawn(true);   // the next launch's
    return thread;
  }

  /** Starts a sandbox thread; a spare (`warm`) also runs the WASI set-up once, off the request's path. */
  private spawn(warm = false): SandboxThread {
    const worker = new Worker(sandboxFile('worker.mjs'), {
      workerData: { wasmerModule: wasiLibraryModule(), warmUp: warm },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMiB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
      stdout: true, stderr: true,   // a sandbox never writes to Dom0's console
    });
    worker.stdout.resume(); worker.stderr.resume();
    // Resolves with undefined when ready, or with the reason it never will be.
    const ready = new Promise<string | undefined>((res) => {
      const onMsg = (m: { type?: string }) => { if (m?.type === 'ready') { cleanup(); res(undefined); } };
      const onErr = (e: Error) => { cleanup(); res(`the sandbox failed to start: ${e.message}`); };
      const onExit = (c: number) => { cleanup(); res(`the sandbox exited during start-up (code ${c})`); };
      const cleanup = () => { worker.off('message', onMsg); worker.off('error', onErr); worker.off('exit', onExit); };
      worker.on('message', onMsg); worker.on('error', onErr); worker.on('exit', onExit);
    });
    const thread: SandboxThread = { worker, ready, alive: true };
    // Always listened to: an 'error' event with no listener would throw in Dom0.
    worker.on('error', () => { thread.alive = false; });
    worker.on('exit', () => { thread.alive = false; });
    worker.unref();
    return thread;
  }
}
