// `vmfunc-vmi bench exits`: the host cost of a VM exit round trip (issue 15,
// item 5): guest -> the Wasm CPU's VM exit -> Xen's handler in TypeScript
// (src/xen/vmx.ts, vmx_vmexit_handler) -> the next VM entry, per exit reason.
//
// Each configuration runs a small hand-encoded guest on the real Xen pieces
// (Domain, the scheduler's loop, the exit handlers, the 16550 UART) that loops
// N times over one exiting instruction:
//   mov r8d, N ; <setup> ; top: <pre> ; <insn> ; dec r8d ; jnz top ; exit port
// and a baseline run of the same loop without <insn> (same setup, same other
// instructions). The cost of an exit is (median host time of the loop with the
// instruction - median host time of the baseline) / exits. Host time is read
// around Scheduler.run() only (process.hrtime), never inside the run: the
// guest's virtual time and every exit are the same whatever the host does.
//
// The loops: CPUID, RDTSC with RDTSC exiting on (once without and once with the
// VMI trigger armed, whose VMFUNC-awareness check runs in every RDTSC exit),
// OUT to the UART's THR (console output, to a sink), IN from its LSR, and a
// VMCALL (xen_version). The TVM platform's periodic timer is pushed beyond the
// run (its period is 2^40 cycles) so that the loop's exits are the only ones
// but the final exit-port write; the VMX-preemption timer is still armed at
// every entry.
import { Domain, COM1 } from '../xen/domain.js';
import { bootImage, BOOTINFO_F_VMFUNC } from '../xen/boot.js';
import { VmiTrigger } from '../xen/trigger.js';
import { EXIT_PORT } from '../xen/devices/debugexit.js';
import { getProfile } from '../xen/cost-profiles.js';
import { __HYPERVISOR_xen_version, XENVER_version } from '../xen/public.js';
import {
  EXIT_REASON_CPUID, EXIT_REASON_RDTSC, EXIT_REASON_IO_INSTRUCTION, EXIT_REASON_VMCALL, exitReasonName,
} from '../vmcs.js';
import { Code, codeImage, le16, le32 } from './code.js';

/** The UART's transmit holding register (COM1 + 0) and line status register (COM1 + 5). */
const UART_THR = COM1, UART_LSR = COM1 + 5;

export type ExitKind = 'cpuid' | 'rdtsc' | 'rdtsc-vmi' | 'out' | 'in' | 'vmcall';
export const EXIT_KINDS: readonly ExitKind[] = ['cpuid', 'rdtsc', 'rdtsc-vmi', 'out', 'in', 'vmcall'];

interface ExitLoop {
  what: string;
  reason: number;
  /** Before the loop (once), before the instruction (every iteration), the exiting instruction. */
  setup: number[]; pre: number[]; insn: number[];
  rdtscExiting?: boolean;
  /** The paper's mechanism armed (src/xen/trigger.ts, as `run` sets it up): every RDTSC exit runs its check. */
  vmi?: boolean;
}

const LOOPS: Record<ExitKind, ExitLoop> = {
  // xor eax, eax ; cpuid (leaf 0)
  cpuid: { what: 'CPUID (leaf 0)', reason: EXIT_REASON_CPUID, setup: [], pre: [0x31, 0xc0], insn: [0x0f, 0xa2] },
  // rdtsc, with RDTSC exiting on (the VMI trigger's setting)
  rdtsc: { what: 'RDTSC (RDTSC exiting on)', reason: EXIT_REASON_RDTSC, setup: [], pre: [], insn: [0x0f, 0x31], rdtscExiting: true },
  // the same with the VMI trigger armed: the VMFUNC-awareness check reads the EPTP index per exit
  'rdtsc-vmi': { what: 'RDTSC, VMI trigger armed', reason: EXIT_REASON_RDTSC, setup: [], pre: [], insn: [0x0f, 0x31], rdtscExiting: true, vmi: true },
  // mov dx, COM1 ; mov al, '.' ; out dx, al (console output, to a sink)
  out: { what: 'OUT to the UART\'s THR', reason: EXIT_REASON_IO_INSTRUCTION, setup: [0x66, 0xba, ...le16(UART_THR), 0xb0, 0x2e], pre: [], insn: [0xee] },
  // mov dx, COM1 + 5 ; in al, dx (the UART's line status)
  in: { what: 'IN from the UART\'s LSR', reason: EXIT_REASON_IO_INSTRUCTION, setup: [0x66, 0xba, ...le16(UART_LSR)], pre: [], insn: [0xec] },
  // mov eax, __HYPERVISOR_xen_version ; mov edi, XENVER_version ; vmcall
  vmcall: {
    what: 'VMCALL xen_version(XENVER_version)', reason: EXIT_REASON_VMCALL, setup: [],
    pre: [0xb8, ...le32(__HYPERVISOR_xen_version), 0xbf, ...le32(XENVER_version)], insn: [0x0f, 0x01, 0xc1],
  },
};

/** The guest of one configuration: N iterations, with or without the exiting instruction, then the exit port (status 0). */
export function buildExitGuest(kind: ExitKind, iterations: number, withInsn: boolean): Uint8Array {
  const l = LOOPS[kind], c = new Code();
  c.emit(0x41, 0xb8, ...le32(iterations)).emit(...l.setup)                          // mov r8d, N ; setup
    .label('top').emit(...l.pre).emit(...(withInsn ? l.insn : []))
    .emit(0x41, 0xff, 0xc8).j8(0x75, 'top')                                              // dec r8d ; jnz top
    .emit(0x66, 0xba, ...le16(EXIT_PORT), 0x31, 0xc0, 0xef);                             // mov dx, EXIT_PORT ; xor eax, eax ; out dx, eax
  return c.bytes();
}

export interface ExitRun {
  /** Host nanoseconds of Scheduler.run(). */
  hostNs: number;
  /** Exits by reason name (the exit port's OUT included). */
  exits: Record<string, number>;
  insns: number;
  vcycles: number;
}

/** One run of a configuration's guest on a fresh domain. */
export function runExitGuest(kind: ExitKind, iterations: number, withInsn: boolean, profile = 'haswell'): ExitRun {
  const d = new Domain({ memMiB: 4, profile, timerPeriod: 1n << 40n, console: () => {} });
  const l = LOOPS[kind], mech = l.vmi ? new VmiTrigger(d, { notify: 'immediate' }) : undefined;
  bootImage(d, codeImage(`bench-exits-${kind}`, buildExitGuest(kind, iterations, withInsn)),
    mech ? { flags: BOOTINFO_F_VMFUNC, eptpViews: mech.altp2m.viewCount } : {});
  if (l.rdtscExiting) for (const v of d.vcpus) v.setRdtscExiting(true);
  const m = d.machine, i0 = m.insnsRetired, c0 = m.vcycles;
  const t0 = process.hrtime.bigint();
  d.sched.run();
  const hostNs = Number(process.hrtime.bigint() - t0);
  const s = d.shutdownInfo;
  if (!s || s.source !== 'exit-port' || s.status !== 0) throw new Error(`bench exits ${kind}: the guest did not reach the exit port (${s?.message ?? 'no shutdown'})`);
  return { hostNs, exits: d.vcpus[0].exitHistogram(), insns: Number(m.insnsRetired - i0), vcycles: Number(m.vcycles - c0) };
}

export interface ExitReasonResult {
  kind: ExitKind;
  what: string;
  /** The exit reason's name (src/vmcs.ts). */
  reason: string;
  /** Exits of that reason in one run (the loop's; the same in every run). */
  exits: number;
  /** Other exits in one run (the exit port's OUT). */
  other_exits: number;
  /** Host ns per exit round trip: (median run - median baseline) / exits. */
  host_ns_per_exit: number;
  /** The same from the fastest run and the fastest baseline: less sensitive to a loaded host. */
  best_ns_per_exit: number;
  /** Host ns per loop iteration with the exiting instruction and without it (medians). */
  host_ns_per_iteration: number;
  baseline_ns_per_iteration: number;
  /** Virtual cycles per iteration with the exit (the cost profile's exit cost plus the loop). */
  vcycles_per_iteration: number;
  /** Each run's host time, ms (with the instruction, then the baseline). */
  runs_ms: number[];
  baseline_runs_ms: number[];
}

export interface ExitBench { profile: string; iterations: number; repeat: number; reasons: ExitReasonResult[] }

export interface ExitBenchOptions {
  profile?: string;
  /** Loop iterations per run (= exits of the measured reason; default 20,000). */
  iterations?: number;
  /** Measured runs per configuration, with and without the instruction; the medians count (default 5). */
  repeat?: number;
  kinds?: readonly ExitKind[];
  onProgress?: (done: number, total: number, what: string) => void;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

export function benchExits(o: ExitBenchOptions = {}): ExitBench {
  const profile = getProfile(o.profile ?? 'haswell').name;
  const n = o.iterations ?? 20_000, repeat = o.repeat ?? 5, kinds = o.kinds ?? EXIT_KINDS;
  let done = 0;
  const reasons = kinds.map((kind): ExitReasonResult => {
    const l = LOOPS[kind];
    o.onProgress?.(done, kinds.length, l.what);
    // Two warm-up pairs of at least 20,000 iterations (V8 compiles the host's and the CPU's hot paths
    // only after many calls), then the measured runs, alternating with baselines.
    const warm = Math.max(n, 20_000);
    for (let i = 0; i < 2; i++) { runExitGuest(kind, warm, true, profile); runExitGuest(kind, warm, false, profile); }
    const runs: ExitRun[] = [], base: ExitRun[] = [];
    for (let i = 0; i < repeat; i++) {
      runs.push(runExitGuest(kind, n, true, profile));
      base.push(runExitGuest(kind, n, false, profile));
    }
    const name = exitReasonName(l.reason);
    const exits = runs[0].exits[name] ?? 0;
    const total = Object.values(runs[0].exits).reduce((a, b) => a + b, 0);
    const baseExits = base[0].exits[name] ?? 0;
    const withMs = median(runs.map((r) => r.hostNs)), baseMs = median(base.map((r) => r.hostNs));
    const bestMs = Math.min(...runs.map((r) => r.hostNs)), bestBaseMs = Math.min(...base.map((r) => r.hostNs));
    o.onProgress?.(++done, kinds.length, l.what);
    return {
      kind, what: l.what, reason: name, exits: exits - baseExits, other_exits: total - (exits - baseExits),
      host_ns_per_exit: Math.round((withMs - baseMs) / Math.max(1, exits - baseExits)),
      best_ns_per_exit: Math.round((bestMs - bestBaseMs) / Math.max(1, exits - baseExits)),
      host_ns_per_iteration: Math.round(withMs / n), baseline_ns_per_iteration: Math.round(baseMs / n),
      vcycles_per_iteration: Math.round(runs[0].vcycles / n),
      runs_ms: runs.map((r) => +(r.hostNs / 1e6).toFixed(2)), baseline_runs_ms: base.map((r) => +(r.hostNs / 1e6).toFixed(2)),
    };
  });
  return { profile, iterations: n, repeat, reasons };
}

export function formatExitBench(b: ExitBench): string {
  const widths = [36, 16, 8, 10, 10, 10, 13, 10];
  const row = (cells: string[]) => cells.map((c, i) => i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])).join(' ').trimEnd();
  const lines = [
    `bench exits: host time of a VM exit round trip (guest -> Wasm exit -> Xen's handler -> VM entry); profile ${b.profile},`,
    `${b.iterations} loop iterations per run, median of ${b.repeat} runs, minus the same loop without the exiting instruction`,
    '',
    row(['instruction', 'exit reason', 'exits', 'ns / exit', 'best', 'ns / iter', 'base ns/iter', 'vcyc/iter']),
  ];
  for (const r of b.reasons) {
    lines.push(row([r.what, r.reason, String(r.exits), String(r.host_ns_per_exit), String(r.best_ns_per_exit), String(r.host_ns_per_iteration),
      String(r.baseline_ns_per_iteration), String(r.vcycles_per_iteration)]));
  }
  lines.push('', 'exits: of the reason, per run (other exits: the exit port\'s OUT). best: from the fastest run and baseline.');
  lines.push('vcyc/iter: virtual cycles per iteration (the cost profile\'s exit cost plus the loop), the same in every run;');
  lines.push('host times never reach the guest.');
  return lines.join('\n');
}
