// The command line: a thin yargs front over the library. Every command is
// also a library call (see src/exec.ts, src/machine.ts).
import { Machine } from './machine.js';
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createReadStream } from 'node:fs';
import { parseTraceFile, formatRecord, eventName, TraceFileError } from './dom0/trace-file.js';
import { createInterface } from 'node:readline';
import { ExecEnv } from './exec.js';
import { runImage, parseCount, parseVtime, checkMem, RunOptionError, type RunSummary, type RunOptions } from './run.js';
import { runImageWithLaunches } from './run-launch.js';
import { loadLaunchConfig, LaunchConfigError, LAUNCH_MODES, DEFAULT_VMI_CONCURRENCY, type LaunchMode } from './dom0/launch.js';
import { DEFAULT_VMI_QUEUE, DEFAULT_VMI_RATE } from './xen/vm_event.js';
import { ImageError } from './xen/elf.js';
import { PROFILES, getProfile } from './xen/cost-profiles.js';
import { benchCommand, BenchUsageError, type BenchName } from './bench/command.js';
import { debugCommand } from './debug/index.js';
import { DebugError } from './debug/format.js';
import { checkInputFile, checkOutputDir, checkOutputFile, readInputFile, InputFileError } from './util/files.js';
import { endQuietlyOnEpipe } from './util/epipe.js';

export class UsageError extends Error {}

async function execCommand(batch: string): Promise<number> {
  if (batch !== '-') {
    try { checkInputFile(batch, 'exec input', 'the input'); } catch (e) {
      if (e instanceof InputFileError) throw new UsageError(`exec: ${e.message}`);
      throw e;
    }
  }
  const env = await ExecEnv.create();
  const input = batch === '-' ? process.stdin : createReadStream(batch);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0, errors = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    const out = env.runLine(line, lineNo);
    if ('error' in out) errors++;
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  return errors > 0 ? 1 : 0;
}

interface RunArgs {
  image?: string; initrd?: string; add?: string[]; maxInsns?: string; maxVtime?: string; mem?: string; cmdline?: string; systemMap?: string; json?: boolean;
  vmi?: boolean; views?: string; notify?: 'immediate' | 'tbuf'; trace?: string;
  vmiMode?: LaunchMode | 'inline'; vmiConfig?: string; profile?: string; tracePages?: string;
  vmiQueue?: string; vmiConcurrency?: string; vmiRate?: string;
}

/** --vmi-rate: requests per second of virtual time, "N" or "N/s". */
function parseVmiRate(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const m = /^\s*(\d+)\s*(?:\/\s*s)?\s*$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > 1_000_000_000) {
    throw new UsageError(`--vmi-rate: "${text}" is not a rate (requests per second of virtual time: an integer from 1 to 1000000000, optionally with /s)`);
  }
  return n;
}

/** --trace-pages: Xen's per-CPU trace buffer size in pages (xentrace -S), a power of two here. */
export const MAX_TRACE_PAGES = 1024; // what machine memory holds beside the largest guest
function parseTracePages(text: string | undefined): number | undefined {
  const n = parseIntOption(text, '--trace-pages', 1, MAX_TRACE_PAGES, 'a number of pages');
  if (n !== undefined && (n & (n - 1))) throw new UsageError(`--trace-pages: ${n} is not a power of two (1, 2, 4 ... ${MAX_TRACE_PAGES})`);
  return n;
}

/** `vmfunc-vmi run`: options to RunOptions, the console to stdout (stderr with --json), the guest's status out. */
async function runCommand(a: RunArgs): Promise<number> {
  const { mem, views } = checkDomainArgs(a.mem, a.views);
  const tracePages = parseTracePages(a.tracePages);
  const vmiQueue = parseIntOption(a.vmiQueue, '--vmi-queue', 1, 1_000_000, 'a number of request slots');
  const vmiConcurrency = parseIntOption(a.vmiConcurrency, '--vmi-concurrency', 1, 1024, 'a number of programs');
  const vmiRate = parseVmiRate(a.vmiRate);
  // Everything the run will read or write is checked before it starts.
  if (a.trace !== undefined) checkOutputFile(a.trace, 'the trace file');
  let launchConfig;
  if (a.vmiConfig !== undefined) {
    checkInputFile(a.vmiConfig, 'launch configuration', 'the launch configuration');
    launchConfig = loadLaunchConfig(a.vmiConfig);
    if (launchConfig.outDir !== undefined) checkOutputDir(launchConfig.outDir, 'the VMI output directory (out_dir)');
  }
  const json = a.json === true;
  const out = json ? process.stderr : process.stdout;
  // The console goes out a line at a time, so hypervisor and Dom0 lines never land inside a guest line.
  let pending = '';
  const consoleOut = (b: Uint8Array) => {
    const text = pending + Buffer.from(b).toString('latin1');
    const nl = text.lastIndexOf('\n');
    if (nl >= 0) { out.write(Buffer.from(text.slice(0, nl + 1), 'latin1')); pending = text.slice(nl + 1); } else pending = text;
  };
  const flushConsole = () => { if (pending) { out.write(Buffer.from(pending, 'latin1')); pending = ''; } };
  const dom0Log = (line: string) => { process.stderr.write(`(dom0) ${line}\n`); };
  const opts: RunOptions = {
    image: a.image,
    initrd: a.initrd,
    addFiles: a.add,
    memMiB: mem,
    cmdline: a.cmdline,
    maxInsns: a.maxInsns === undefined ? undefined : parseCount(a.maxInsns, '--max-insns'),
    profile: a.profile,
    maxVtime: a.maxVtime === undefined ? undefined : parseVtime(a.maxVtime, getProfile(a.profile ?? 'placeholder').freqKhz.value),
    systemMap: a.systemMap === undefined ? undefined : a.systemMap === 'none' ? false : a.systemMap,
    onConsole: consoleOut,
    onLog: (line) => { process.stderr.write(`(XEN) ${line}\n`); },
    vmi: a.vmi === false ? false : {
      views, notify: a.notify, tracePages, traceFile: a.trace, traceHvm: a.trace !== undefined, onDom0Log: dom0Log,
      queue: vmiQueue, rate: vmiRate,
    },
  };
  const summary: RunSummary = a.vmi === false ? runImage(opts) : await runImageWithLaunches({
    ...opts, launchMode: a.vmiMode, onLaunchLog: dom0Log,
    launchConfig, vmiConcurrency,
  });
  flushConsole();
  if (summary.trace && summary.trace.dropped > 0) {
    process.stderr.write(`vmfunc-vmi: warning: ${summary.trace.dropped} trace records lost (the trace buffer was full; see --trace-pages)\n`);
  }
  const lost = summary.vmi_requests_dropped;
  if (lost && lost.total > 0) {
    const why = [lost.ring_full ? `${lost.ring_full} with the request ring full (${lost.queue} slots; see --vmi-queue, --vmi-concurrency)` : '',
      lost.rate ? `${lost.rate} over the rate (${lost.rate_per_s}/s; see --vmi-rate)` : ''].filter(Boolean).join(', ');
    process.stderr.write(`vmfunc-vmi: warning: ${lost.total} VMI requests dropped: ${why}\n`);
  }
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (summary.exit.kind !== 'shutdown') process.stderr.write(`vmfunc-vmi: ${summary.exit.kind === 'limit' ? summary.exit.detail : `domain crashed: ${summary.exit.detail}`}\n`);
  return summary.exit.status;
}

/** `vmfunc-vmi trace FILE`: the records of a xentrace file, as text or JSON lines. */
function traceCommand(file: string, json: boolean): number {
  let bytes: Uint8Array;
  try { bytes = readInputFile(file, 'trace file'); } catch (e) {
    if (e instanceof InputFileError) throw new UsageError(`trace: ${e.message}`);
    throw e;
  }
  let recs;
  try { recs = parseTraceFile(bytes); } catch (e) {
    if (e instanceof TraceFileError) throw new UsageError(`trace: ${file}: ${e.message}`);
    throw e;
  }
  for (const r of recs) {
    process.stdout.write((json
      ? JSON.stringify({ cpu: r.cpu, event: '0x' + r.event.toString(16), name: eventName(r.event), tsc: r.tsc?.toString(), data: r.data })
      : formatRecord(r)) + '\n');
  }
  return 0;
}

/** An integer option: digits only, within [min, max], or a message naming the option and its range. */
export function parseIntOption(text: string | number | undefined, option: string, min: number, max: number, what: string): number | undefined {
  if (text === undefined) return undefined;
  const t = String(text).trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${option}: "${text}" is not ${what} (an integer from ${min} to ${max})`);
  }
  return n;
}

/** Checks --mem and --views (shared by run and debug). */
function checkDomainArgs(mem: string | undefined, views: string | undefined): { mem: number; views: number | undefined } {
  if (mem !== undefined && !/^\s*\d+\s*$/.test(mem)) throw new RunOptionError(`--mem: "${mem}" is not a size in MiB`);
  if (views !== undefined && !/^\s*\d+\s*$/.test(views)) {
    throw new RunOptionError(`--views: "${views}" is not a number of EPT views (an integer from 2 to 10)`);
  }
  const v = views === undefined ? undefined : Number(views);
  if (v !== undefined && (!Number.isInteger(v) || v < 2 || v > 10)) {
    throw new RunOptionError(`--views: ${v} is not a number of EPT views from 2 to 10 (the TVM asks with index 11)`);
  }
  return { mem: checkMem(mem === undefined ? 64 : Number(mem)), views: v };
}

/** Checks --profile names a cost profile, with the list of them. */
function checkProfile(p: string | undefined): string | undefined {
  if (p !== undefined && !(p in PROFILES)) throw new UsageError(`--profile: "${p}" is not a cost profile (have: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** --kernel FILE is the image given another way; both at once is ambiguous. */
function kernelOrImage(kernel: string | undefined, image: string | undefined): string | undefined {
  if (kernel !== undefined && image !== undefined) throw new UsageError(`--kernel ${kernel} and the image ${image}: give one of them`);
  return kernel ?? image;
}

/** The options `run` and `debug` share: how the domain is built and booted. */
function domainOptions<T>(y: Argv<T>) {
  return y
    .option('mem', { type: 'string', describe: 'guest memory in MiB (default 64)' })
    .option('cmdline', { type: 'string', describe: 'kernel command line (in the boot information; for Linux default "console=ttyS0 nolapic panic=-1")' })
    .option('kernel', { type: 'string', describe: 'a Linux bzImage to boot (the same as giving it as the image)' })
    .option('initrd', { type: 'string', describe: 'initial ramdisk (cpio) for a Linux kernel (default for `linux`: firmware/linux/initramfs.cpio)' })
    .option('add', { type: 'string', array: true, describe: 'add FILE to the Linux initrd as /bin/FILE\'s name (repeatable); run it with --cmdline \'... run="/bin/NAME"\'' })
    .option('system-map', { type: 'string', describe: 'System.map to place in guest memory (default: System.map beside the image, if any; "none" for none)' })
    .option('vmi', { type: 'boolean', default: true, describe: 'the VMI trigger mechanism: altp2m views, VMFUNC, trace buffers, Dom0 (--no-vmi: plain boot)' })
    .option('views', { type: 'string', describe: 'normal EPT views, each with a VMI mirror at 10+k (default 2)' })
    .option('notify', { choices: ['immediate', 'tbuf'] as const, describe: 'Dom0 notification: the paper\'s VIRQ per request, or stock VIRQ_TBUF at half full with a 100 ms poll' })
    .option('profile', { type: 'string', describe: 'CPU cost profile: instruction, exit and Dom0 costs and the TSC frequency (default placeholder: 2 GHz, round numbers; haswell, icelake-sp: cited)' });
}

export async function main(argv: string[]): Promise<void> {
  let code = 0;
  // A reader that went away (`| head`) ends the process quietly, with the status so far.
  const quit = () => process.exit(Number(process.exitCode ?? 0));
  endQuietlyOnEpipe(process.stdout, quit);
  endQuietlyOnEpipe(process.stderr, quit);
  try {
    await yargs(argv)
      .scriptName('vmfunc-vmi')
      .usage('$0 <command> [options]\n\nAn emulator of the VMFUNC-based VMI trigger mechanism (Liu et al., 2017).')
      .option('jit', { choices: ['on', 'off'] as const, global: true, describe: 'run hot guest code compiled to Wasm (src/jit/; default on; bench mips: off = no JIT row)' })
      .middleware((a) => { if (a.jit !== undefined) { Machine.defaultJit = a.jit === 'on'; Machine.reportJit = true; } })
      .command('exec [input]', 'run raw x86-64 code snippets (one JSON object a line) in a fixed user-mode environment',
        (y) => y.option('batch', { type: 'string', describe: 'JSONL file of cases, or - for stdin' })
          .positional('input', { type: 'string', hidden: true })
          .example('$0 exec --batch -', 'read cases from stdin')
          .epilogue('Input:  {"code":"<hex>","regs":{"rax":"0x1",...},"rflags":"0x202","max_insns":N}\n' +
            'Output: {"stop":"end|exception|limit","rip":..,"regs":{..},"rflags":..,"insns":N,"data_fnv1a64":..}'),
        async (a) => {
          // yargs reads a lone "-" as a positional, so `--batch -` arrives as batch "" plus input "-".
          const b = a.batch as string | undefined, inp = a.input as unknown;
          const src = b === '' || inp === true ? '-' : b ?? (typeof inp === 'string' ? inp : undefined);
          if (!src) throw new UsageError('exec: --batch FILE (or - for stdin) is required');
          code = await execCommand(src);
        })
      .command('run [image]', 'boot an ELF64 image or a Linux bzImage headlessly (default: the bundled TVM; `linux`: the bundled Linux); the serial console streams to stdout and the exit status is the guest\'s',
        (y) => domainOptions(y.positional('image', { type: 'string', describe: 'ELF64 image following the boot protocol (firmware/README.md), a Linux bzImage, or `tvm` / `linux` for the bundled ones' }))
          .option('max-insns', { type: 'string', describe: 'stop after N guest instructions (k, M, G suffixes)' })
          .option('max-vtime', { type: 'string', describe: 'stop at this virtual time: TSC cycles, or a number with ns, us, ms or s' })
          .option('json', { type: 'boolean', describe: 'print a JSON summary on stdout (the console goes to stderr)' })
          .option('trace-pages', { type: 'string', describe: 'trace buffer pages per CPU, a power of two (default 32; as xentrace -S)' })
          .option('trace', { type: 'string', describe: 'write the xentrace file (HVM trace points on) to FILE' })
          .option('vmi-mode', { choices: LAUNCH_MODES, describe: 'how a VMI program runs beside the guest: vtime (default): in its sandbox thread on the guest\'s virtual time, the guest running up to each libvmi call\'s modelled instant: launch + calls x call cost + the Wasm instructions the program executed x their cost, from the cost profile; deterministic; worker: on host time, racing the guest (for experiments: depends on the host\'s load); pause (alias inline): to its end while the guest waits (deterministic)' })
          .option('vmi-queue', { type: 'string', describe: `VMI request slots per domain (as Xen's vm_event ring): a request raised while they are all held -- queued or running -- is dropped, traced and counted (default ${DEFAULT_VMI_QUEUE})` })
          .option('vmi-concurrency', { type: 'string', describe: `VMI programs running at once per domain; later requests wait in the queue (default ${DEFAULT_VMI_CONCURRENCY}; pause mode: 1)` })
          .option('vmi-rate', { type: 'string', describe: `VMI requests admitted per second of virtual time per domain, "N" or "N/s"; more are dropped, traced and counted (default ${DEFAULT_VMI_RATE}/s)` })
          .option('vmi-config', { type: 'string', describe: 'launch configuration (JSON): {"programs":{"1":"process-list",...},"time_limit_ms":..,"memory_limit_mib":..,"out_dir":..}; a program as {"name":"process-list","snapshot":true} reads a copy-on-write snapshot of guest memory taken at its launch (vtime and worker modes; "snapshot_max_copies":.. bounds its copied frames, default 1024)' })
          .example('$0 run', 'boot the bundled TVM')
          .example('$0 run --json --max-vtime 50ms', 'summary of at most 50 ms of virtual time')
          .epilogue('Exit status: the guest\'s (exit port 0x501 or SCHEDOP_shutdown), 124 when a --max-* limit stopped the run, ' +
            '125 when the domain crashed, 1 for a bad image, 2 for bad options.'),
        async (a) => {
          checkProfile(a.profile as string | undefined);
          code = await runCommand({ image: kernelOrImage(a.kernel as string | undefined, a.image as string | undefined),
            initrd: a.initrd as string | undefined, add: a.add as string[] | undefined, maxInsns: a.maxInsns as string | undefined,
            maxVtime: a.maxVtime as string | undefined, mem: a.mem as string | undefined, cmdline: a.cmdline as string | undefined,
            systemMap: a.systemMap as string | undefined, json: a.json as boolean | undefined,
            vmi: a.vmi as boolean, views: a.views as string | undefined, notify: a.notify as 'immediate' | 'tbuf' | undefined,
            trace: a.trace as string | undefined, vmiMode: a.vmiMode as LaunchMode | 'inline' | undefined,
            vmiConfig: a.vmiConfig as string | undefined, profile: a.profile as string | undefined,
            tracePages: a.tracePages as string | undefined, vmiQueue: a.vmiQueue as string | undefined,
            vmiConcurrency: a.vmiConcurrency as string | undefined, vmiRate: a.vmiRate as string | undefined });
        })
      .command('debug [image]', 'step-debug VM exits: an interactive console (or --script FILE), or a gdb stub (--gdb PORT)',
        (y) => domainOptions(y.positional('image', { type: 'string', describe: 'ELF64 image (default: the bundled TVM)' }))
          .option('script', { type: 'string', describe: 'run the debugger commands in FILE (one a line), then exit (with --gdb: then serve gdb)' })
          .option('gdb', { type: 'string', describe: 'serve the GDB remote protocol on this loopback TCP port' })
          .option('quiet', { type: 'boolean', describe: 'leave out the guest console and the hypervisor log' })
          .example('$0 debug', 'the console on the bundled TVM ("help" lists the commands)')
          .example('$0 debug --script walkthrough.txt', 'run commands from a file')
          .example('$0 debug --gdb 1234', 'then: gdb firmware/tvm/tvm.elf -ex "target remote :1234"')
          .epilogue('Exit status: 0, or quit\'s; 1 when a script command fails or the image is bad; 2 for bad options.'),
        async (a) => {
          const { mem, views } = checkDomainArgs(a.mem as string | undefined, a.views as string | undefined);
          checkProfile(a.profile as string | undefined);
          const gdb = parseIntOption(a.gdb as string | undefined, '--gdb', 0, 65535, 'a TCP port');
          const sm = a.systemMap as string | undefined;
          code = await debugCommand({
            image: kernelOrImage(a.kernel as string | undefined, a.image as string | undefined), initrd: a.initrd as string | undefined,
            addFiles: a.add as string[] | undefined, memMiB: mem, cmdline: a.cmdline as string | undefined,
            systemMap: sm === undefined ? undefined : sm === 'none' ? false : sm,
            vmi: a.vmi === false ? false : { views, notify: a.notify as 'immediate' | 'tbuf' | undefined },
            script: a.script as string | undefined, gdbPort: gdb, quiet: a.quiet === true, profile: a.profile as string | undefined,
          });
        })
      .command('trace <file>', 'print a xentrace file (as written by `run --trace`) as text, one record a line',
        (y) => y.positional('file', { type: 'string', describe: 'trace file in xentrace\'s format' })
          .option('json', { type: 'boolean', describe: 'one JSON object a record' }),
        (a) => { code = traceCommand(a.file as string, a.json === true); })
      .command('bench <what>', 'benchmarks: `bench trigger` models the latency from a guest\'s VMI request to detection, trace record, Dom0 and the VMI program, per mechanism; `bench overhead` the TVM\'s slowdown (off, armed, VMFUNC trigger, pausing); `bench mips` guest MIPS against native and QEMU; `bench torn` how often a VMI walk of a changing guest is torn, per Dom0 mode and cost profile; `bench exits` the host time of a VM exit round trip per exit reason',
        (y) => y.positional('what', { choices: ['trigger', 'overhead', 'mips', 'torn', 'exits'] as const, describe: 'which benchmark' })
          .option('profile', { type: 'string', describe: `CPU cost profile (${Object.keys(PROFILES).join(', ')}); default haswell (torn: all three)` })
          .option('requests', { type: 'string', describe: 'trigger: requests per mechanism (default 1000); torn: requests in the churn scenario (default 20)' })
          .option('rdtsc-loop', { type: 'string', default: '1000', describe: 'trigger: guest loop iterations (2 instructions each) between RDTSCs for the mechanism rows' })
          .option('rates', { type: 'string', default: '10,100,1000,10000,100000', describe: 'trigger: comma-separated loop lengths for the RDTSC-rate sweep of the VMFUNC path' })
          .option('poll-ms', { type: 'string', default: '1,10', describe: 'trigger: comma-separated periods of the Dom0-polling rows, ms; overhead: the first is the pausing Dom0\'s period' })
          .option('seed', { type: 'string', default: '1', describe: 'trigger: seed of the request phases' })
          .option('iterations', { type: 'string', describe: 'mips: workload iterations (default: calibrated to --target)' })
          .option('target', { type: 'string', describe: 'mips: emulator seconds to aim for when calibrating (default 3)' })
          .option('repeat', { type: 'string', describe: 'mips: native/QEMU runs, the fastest counts (default 5); exits: runs per configuration, the median counts (default 5)' })
          .option('exits', { type: 'string', describe: 'exits: loop iterations (exits of the measured reason) per run (default 20000)' })
          .option('emu-runs', { type: 'string', describe: 'mips: measured emulator runs, the fastest counts (default 2)' })
          .option('native', { type: 'boolean', default: true, describe: 'mips: build and run the native executable (--no-native: skip)' })
          .option('qemu', { type: 'boolean', default: true, describe: 'mips: run it under qemu-x86_64 when installed (--no-qemu: skip)' })
          .option('ept', { type: 'boolean', describe: 'mips: also run the emulator with EPT on' })
          .option('workload', { type: 'string', choices: ['crc', 'nbody'], describe: 'mips: crc (integer C, default) or nbody (scalar double C, SSE2)' })
          .option('guest', { type: 'string', choices: ['tvm', 'linux'], describe: 'overhead: the TVM\'s workers (default) or the bundled Linux (boot, vmireq, power-off); trigger: the hand-encoded loop (default) or the bundled Linux running vmibench (--requests default 20, each followed by a ~5 ms computation or a nanosleep)' })
          .option('svg', { type: 'string', describe: 'trigger, overhead: write SVG charts into this directory' })
          .option('json', { type: 'boolean', describe: 'print the results as JSON' })
          .example('$0 bench trigger', 'the table, Haswell profile, 1000 requests per row')
          .example('$0 bench trigger --profile icelake-sp --json', 'JSON for a recent server part')
          .example('$0 bench overhead --svg charts', 'the overhead table, and charts/overhead-*.svg')
          .example('$0 bench overhead --guest linux', 'the same four configurations on the bundled Linux')
          .example('$0 bench mips --target 1', 'emulator, native and QEMU MIPS')
          .example('$0 bench torn', 'consistent, retried and torn walks per mode and profile')
          .example('$0 bench exits --json', 'host ns per VM exit round trip: CPUID, RDTSC, OUT, IN, VMCALL'),
        async (a) => {
          if (a.profile !== undefined) checkProfile(a.profile as string);
          const int = (o: string, min: number, max: number, what: string) => parseIntOption(a[o] as string | undefined, `--${o}`, min, max, what);
          const requests = int('requests', 1, 10_000_000, 'a number of requests');
          const rdtscLoop = int('rdtsc-loop', 0, 1_000_000_000, 'a loop length');
          const seed = int('seed', 0, 0xffffffff, 'a seed');
          const iterations = int('iterations', 1, Number.MAX_SAFE_INTEGER, 'a number of iterations');
          const target = a.target === undefined ? undefined : Number(a.target);
          if (target !== undefined && !(target > 0 && target <= 3600)) throw new UsageError(`--target: "${a.target}" is not a number of seconds (above 0, at most 3600)`);
          const repeat = int('repeat', 1, 1000, 'a number of runs');
          const emuRuns = int('emu-runs', 1, 1000, 'a number of runs');
          const exits = int('exits', 1, 100_000_000, 'a number of exits');
          if (a.svg !== undefined) checkOutputDir(a.svg as string, 'the SVG charts');
          code = await benchCommand(a.what as BenchName, {
            profile: a.profile as string | undefined, json: a.json === true, svg: a.svg as string | undefined,
            requests: requests as number | undefined, rdtscLoop: rdtscLoop as number, rates: a.rates as string, pollMs: a.pollMs as string, seed: seed as number,
            iterations, target, repeat, emuRuns, native: a.native as boolean, qemu: a.qemu as boolean, ept: a.ept === true,
            workload: a.workload as string | undefined, guest: a.guest as 'tvm' | 'linux' | undefined, exits,
            jit: a.jit as 'on' | 'off' | undefined,
          });
        })
      .demandCommand(1, 'name a command')
      .strict()
      .recommendCommands()
      .fail((msg, err) => {
        if (err) throw err;
        // One line: yargs' message (its own lines joined), then the hint.
        throw new UsageError(`${msg.replace(/:\s*\n\s*/g, ': ').replace(/\s*\n\s*/g, '; ')} (see vmfunc-vmi --help)`);
      })
      .help()
      .version()
      .parseAsync();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`vmfunc-vmi: ${msg}\n`);
    code = e instanceof UsageError || e instanceof InputFileError || e instanceof BenchUsageError || e instanceof RunOptionError || e instanceof LaunchConfigError || e instanceof RangeError || e instanceof DebugError ? 2 : 1;
    if (e instanceof ImageError) code = 1;
  }
  process.exitCode = code;
}
