// Which of V8's two Wasm compilers compiles what (V8 11, Node 20). V8 compiles a function at its
// first call: with Liftoff (quick to compile, slower code) and, once the function is hot, again with
// TurboFan on a background thread; a frame already running keeps its code (no on-stack
// replacement). A VMRESUME is one long call into the CPU, so the functions it needs at once -- the
// run loop, execute(), the decoder, the MMU -- are compiled by TurboFan from the start (--no-liftoff)
// until the first VMRESUME returns. What is first called after that starts in Liftoff: instruction
// paths a guest reaches late, the JIT's code generator (assembly/jit/, run once per region), and
// every region (src/jit/host.ts). With --no-liftoff throughout, each region and the code generator
// were compiled by TurboFan on the main thread at their first call: ~1 ms per KB of region, some
// 60 ms for the generator, most of what the JIT added to a Linux boot.
import v8 from 'node:v8';

type Phase = 'default' | 'optimised' | 'tiered';
let phase: Phase = 'default';

/** Before the CPU's module is compiled: its functions compile optimised at their first call. */
export function optimiseFirstCalls(): void {
  if (phase !== 'default') return;
  v8.setFlagsFromString('--no-liftoff');
  phase = 'optimised';
}

/** Whether the first VMRESUME has returned (the run loop's functions are compiled). */
export let tiered = false;

/** After a VMRESUME returned: functions compiled from now on start in Liftoff. */
export function startTiering(): void {
  if (tiered) return;
  tiered = true;
  if (phase === 'optimised') v8.setFlagsFromString('--liftoff');
  phase = 'tiered';
}

/** Runs `first` (a region's first call: its compile) with Liftoff, whatever the phase. */
export function withBaseline<T>(first: () => T): T {
  if (phase !== 'optimised') return first();
  v8.setFlagsFromString('--liftoff');
  try { return first(); } finally { v8.setFlagsFromString('--no-liftoff'); }
}
