// The host's half of the JIT (the CPU's half is assembly/jit/): when a decoded block turns hot the
// CPU writes a region's Wasm module into its memory and calls jit_compile; here the module is
// compiled and instantiated synchronously (Node allows it on any thread; v86 instantiates
// asynchronously in the browser), linked to the CPU's memory, globals and helpers, and its
// function placed in the CPU's exported function table, where the run loop calls it with
// call_indirect. When the table holds MAX_REGIONS the CPU drops every region (jit_flush) and the
// indices are reused. Compile time is host time, kept for statistics only: it includes V8's
// baseline (Liftoff) compile, not the optimising (TurboFan) one V8 runs later on a background thread.
import { withBaseline } from './tiers.js';

/** The CPU exports a region imports (assembly/index.ts: the helpers, jit_g0..jit_g18). */
export interface JitCpuExports {
  memory: WebAssembly.Memory;
  table: WebAssembly.Table;
  jitStep: Function; jitRead: Function; jitWrite: Function; jitTestCC: Function; jitStepSse: Function;
  setJit(on: number, threshold: number): void;
  jitStat(i: number): number;
  [global: `jit_g${number}`]: WebAssembly.Global;
}

/** Regions the table holds before a flush (v86 clears its 900-entry table the same way). */
const MAX_REGIONS = 4000;
const GLOBALS = 19; // assembly/jit/emit.ts GLOBAL_COUNT

export interface JitStats {
  regionsCompiled: number;
  /** Calls of compiled regions by the run loop, and the instructions retired in compiled code. */
  regionCalls: number;
  insnsCompiled: number;
  regionsRefused: number;
  /** Entries left to the interpreter: their first 256 calls ran fewer than 64 instructions each on average. */
  entriesDemoted: number;
  flushes: number;
  /** Instructions compiled code handed to the interpreter (jitStep, jitStepSse), and memory
   *  accesses that missed the inline TLB path (page walks, page-crossing, MMIO, faults). */
  interpreterSteps: number;
  slowAccesses: number;
  /** Pages besides their entry page that the compiled regions hold code of (branches across pages). */
  otherPages: number;
  compileMs: number;
  moduleBytes: number;
  /** Regions whose module was compiled before (the same code): only instantiated. */
  moduleReuses: number;
  failures: number;
  lastError?: string;
}

export class JitHost {
  private cpu: JitCpuExports | undefined;
  private imports: WebAssembly.Imports | undefined;
  private first = 1;
  private next = 1;
  /** Compiled modules by their bytes: the same code (the same page offsets, the same shared entry
   *  copies, assembly/jit/region.ts) is compiled once, as when a run reloads its image. Dropped when
   *  the CPU flushes (the entry copies the modules name are reused then). */
  private readonly modules = new Map<string, WebAssembly.Module>();
  moduleReuses = 0;
  /** Regions the table holds before the CPU must flush (tests lower it to exercise flushes). */
  maxRegions = MAX_REGIONS;
  compileMs = 0;
  moduleBytes = 0;
  failures = 0;
  lastError: string | undefined;

  /** The CPU's imports jit_compile and jit_flush. */
  get env(): Record<string, Function> {
    return {
      jit_compile: (addr: number, len: number) => this.compile(addr >>> 0, len >>> 0),
      jit_flush: () => { this.next = this.first; this.modules.clear(); },
    };
  }

  bind(cpu: JitCpuExports): void {
    this.cpu = cpu;
    const env: Record<string, unknown> = {
      memory: cpu.memory, step: cpu.jitStep, read: cpu.jitRead, write: cpu.jitWrite, testcc: cpu.jitTestCC, stepsse: cpu.jitStepSse,
    };
    for (let i = 0; i < GLOBALS; i++) env[`g${i}`] = cpu[`jit_g${i}`];
    this.imports = { env: env as WebAssembly.ModuleImports };
    this.first = this.next = cpu.table.length;
  }

  private compile(addr: number, len: number): number {
    const cpu = this.cpu!;
    if (this.next - this.first >= this.maxRegions) return -1;
    const t0 = performance.now();
    try {
      // A copy: WebAssembly.Module does not take a view of shared memory.
      const bytes = new Uint8Array(cpu.memory.buffer, addr, len).slice();
      const key = Buffer.from(bytes.buffer).toString('latin1');
      let mod = this.modules.get(key);
      if (mod) this.moduleReuses++;
      else {
        if (this.modules.size >= MAX_REGIONS) this.modules.clear();
        mod = new WebAssembly.Module(bytes);
        this.modules.set(key, mod);
      }
      const inst = new WebAssembly.Instance(mod, this.imports);
      const idx = this.next++;
      if (cpu.table.length <= idx) cpu.table.grow(Math.max(64, idx + 1 - cpu.table.length));
      const f = inst.exports.f as (sliceEnd: bigint, deadline: bigint, block: number) => number;
      // V8 compiles a function at its first call (lazy compilation): call it once with a block index
      // the region does not have, which returns at once, so compile time includes that compile.
      // With Liftoff (~5x quicker to compile than TurboFan here), which V8 tiers up in the
      // background once the region is hot (tiers.ts).
      withBaseline(() => f(0n, 0n, 1 << 30));
      cpu.table.set(idx, f);
      this.moduleBytes += len;
      return idx;
    } catch (e) {
      this.failures++;
      this.lastError = String(e);
      if (process.env.VMFUNC_VMI_JIT_DEBUG) process.stderr.write(`jit: ${this.lastError}\n`);
      return 0;
    } finally {
      this.compileMs += performance.now() - t0;
    }
  }

  stats(): JitStats {
    const cpu = this.cpu!;
    return {
      regionsCompiled: cpu.jitStat(0), regionsRefused: cpu.jitStat(1), flushes: cpu.jitStat(2),
      regionCalls: cpu.jitStat(3), insnsCompiled: cpu.jitStat(4), entriesDemoted: cpu.jitStat(5),
      interpreterSteps: cpu.jitStat(6), slowAccesses: cpu.jitStat(7), otherPages: cpu.jitStat(8),
      compileMs: this.compileMs, moduleBytes: this.moduleBytes, moduleReuses: this.moduleReuses, failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }
}
