// The command line: a thin yargs front over the library. Every command is
// also a library call (see src/exec.ts, src/machine.ts).
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { parseTraceFile, formatRecord, eventName, TraceFileError } from './dom0/trace-file.js';
import { createInterface } from 'node:readline';
import { ExecEnv } from './exec.js';
import { runImage, parseCount, parseVtime, checkMem, RunOptionError, type RunSummary, type RunOptions } from './run.js';
import { runImageWithLaunches } from './run-launch.js';
import { loadLaunchConfig, LaunchConfigError, LAUNCH_MODES, type LaunchMode } from './dom0/launch.js';
import { ImageError } from './xen/elf.js';
import { PROFILES, getProfile } from './xen/cost-profiles.js';
import { benchCommand, BenchUsageError } from './bench/command.js';
import { debugCommand } from './debug/index.js';
import { DebugError } from './debug/format.js';

export class UsageError extends Error {}

async function execCommand(batch: string): Promise<number> {
  if (batch !== '-' && !existsSync(batch)) throw new UsageError(`exec: cannot open "${batch}": no such file`);
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
  image?: string; maxInsns?: string; maxVtime?: string; mem?: string; cmdline?: string; systemMap?: string; json?: boolean;
  vmi?: boolean; views?: number; notify?: 'immediate' | 'tbuf'; trace?: string;
  vmiMode?: LaunchMode | 'inline'; vmiConfig?: string; profile?: string;
}

/** `vmfunc-vmi run`: options to RunOptions, the console to stdout (stderr with --json), the guest's status out. */
async function runCommand(a: RunArgs): Promise<number> {
  const mem = checkDomainArgs(a.mem, a.views);
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
    memMiB: mem,
    cmdline: a.cmdline ?? '',
    maxInsns: a.maxInsns === undefined ? undefined : parseCount(a.maxInsns, '--max-insns'),
    profile: a.profile,
    maxVtime: a.maxVtime === undefined ? undefined : parseVtime(a.maxVtime, getProfile(a.profile ?? 'placeholder').freqKhz.value),
    systemMap: a.systemMap === undefined ? undefined : a.systemMap === 'none' ? false : a.systemMap,
    onConsole: consoleOut,
    onLog: (line) => { process.stderr.write(`(XEN) ${line}\n`); },
    vmi: a.vmi === false ? false : {
      views: a.views, notify: a.notify, traceFile: a.trace, traceHvm: a.trace !== undefined, onDom0Log: dom0Log,
    },
  };
  const summary: RunSummary = a.vmi === false ? runImage(opts) : await runImageWithLaunches({
    ...opts, launchMode: a.vmiMode, onLaunchLog: dom0Log,
    launchConfig: a.vmiConfig === undefined ? undefined : loadLaunchConfig(a.vmiConfig),
  });
  flushConsole();
  if (json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  else if (summary.exit.kind !== 'shutdown') process.stderr.write(`vmfunc-vmi: ${summary.exit.kind === 'limit' ? summary.exit.detail : `domain crashed: ${summary.exit.detail}`}\n`);
  return summary.exit.status;
}

/** `vmfunc-vmi trace FILE`: the records of a xentrace file, as text or JSON lines. */
function traceCommand(file: string, json: boolean): number {
  let bytes: Uint8Array;
  try { bytes = new Uint8Array(readFileSync(file)); } catch (e) {
    throw new UsageError(`trace: cannot read "${file}": ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
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

/** Checks --mem and --views (shared by run and debug); returns the guest memory in MiB. */
function checkDomainArgs(mem: string | undefined, views: number | undefined): number {
  if (mem !== undefined && !/^\s*\d+\s*$/.test(mem)) throw new RunOptionError(`--mem: "${mem}" is not a size in MiB`);
  if (views !== undefined && (!Number.isInteger(views) || views < 2 || views > 10)) {
    throw new RunOptionError(`--views: ${views} is not a number of EPT views from 2 to 10 (the TVM asks with index 11)`);
  }
  return checkMem(mem === undefined ? 64 : Number(mem));
}

/** The options `run` and `debug` share: how the domain is built and booted. */
function domainOptions<T>(y: Argv<T>) {
  return y
    .option('mem', { type: 'string', describe: 'guest memory in MiB (default 64)' })
    .option('cmdline', { type: 'string', describe: 'kernel command line (in the boot information)' })
    .option('system-map', { type: 'string', describe: 'System.map to place in guest memory (default: System.map beside the image, if any; "none" for none)' })
    .option('vmi', { type: 'boolean', default: true, describe: 'the VMI trigger mechanism: altp2m views, VMFUNC, trace buffers, Dom0 (--no-vmi: plain boot)' })
    .option('views', { type: 'number', describe: 'normal EPT views, each with a VMI mirror at 10+k (default 2)' })
    .option('notify', { choices: ['immediate', 'tbuf'] as const, describe: 'Dom0 notification: the paper\'s VIRQ per request, or stock VIRQ_TBUF at half full with a 100 ms poll' })
    .option('profile', { type: 'string', describe: 'CPU cost profile: instruction, exit and Dom0 costs and the TSC frequency (default placeholder: 2 GHz, round numbers; haswell, icelake-sp: cited)' });
}

export async function main(argv: string[]): Promise<void> {
  let code = 0;
  try {
    await yargs(argv)
      .scriptName('vmfunc-vmi')
      .usage('$0 <command> [options]\n\nAn emulator of the VMFUNC-based VMI trigger mechanism (Liu et al., 2017).')
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
      .command('run [image]', 'boot an ELF64 image headlessly (default: the bundled TVM); the serial console streams to stdout and the exit status is the guest\'s',
        (y) => domainOptions(y.positional('image', { type: 'string', describe: 'ELF64 image following the boot protocol (firmware/README.md)' }))
          .option('max-insns', { type: 'string', describe: 'stop after N guest instructions (k, M, G suffixes)' })
          .option('max-vtime', { type: 'string', describe: 'stop at this virtual time: TSC cycles, or a number with ns, us, ms or s' })
          .option('json', { type: 'boolean', describe: 'print a JSON summary on stdout (the console goes to stderr)' })
          .option('trace', { type: 'string', describe: 'write the xentrace file (HVM trace points on) to FILE' })
          .option('vmi-mode', { choices: LAUNCH_MODES, describe: 'how a VMI program runs beside the guest: vtime (default): in its sandbox thread on the guest\'s virtual time, the guest running up to each libvmi call\'s modelled instant: launch + calls x call cost + the Wasm instructions the program executed x their cost, from the cost profile; deterministic; worker: on host time, racing the guest (for experiments: depends on the host\'s load); pause (alias inline): to its end while the guest waits (deterministic)' })
          .option('vmi-config', { type: 'string', describe: 'launch configuration (JSON): {"programs":{"1":"process-list",...},"time_limit_ms":..,"memory_limit_mib":..,"out_dir":..}; a program as {"name":"process-list","snapshot":true} reads a copy-on-write snapshot of guest memory taken at its launch (vtime and worker modes; "snapshot_max_copies":.. bounds its copied frames, default 1024)' })
          .example('$0 run', 'boot the bundled TVM')
          .example('$0 run --json --max-vtime 50ms', 'summary of at most 50 ms of virtual time')
          .epilogue('Exit status: the guest\'s (exit port 0x501 or SCHEDOP_shutdown), 124 when a --max-* limit stopped the run, ' +
            '125 when the domain crashed, 1 for a bad image, 2 for bad options.'),
        async (a) => {
          code = await runCommand({ image: a.image as string | undefined, maxInsns: a.maxInsns as string | undefined,
            maxVtime: a.maxVtime as string | undefined, mem: a.mem as string | undefined, cmdline: a.cmdline as string | undefined,
            systemMap: a.systemMap as string | undefined, json: a.json as boolean | undefined,
            vmi: a.vmi as boolean, views: a.views as number | undefined, notify: a.notify as 'immediate' | 'tbuf' | undefined,
            trace: a.trace as string | undefined, vmiMode: a.vmiMode as LaunchMode | 'inline' | undefined,
            vmiConfig: a.vmiConfig as string | undefined, profile: a.profile as string | undefined });
        })
      .command('debug [image]', 'step-debug VM exits: an interactive console (or --script FILE), or a gdb stub (--gdb PORT)',
        (y) => domainOptions(y.positional('image', { type: 'string', describe: 'ELF64 image (default: the bundled TVM)' }))
          .option('script', { type: 'string', describe: 'run the debugger commands in FILE (one a line), then exit (with --gdb: then serve gdb)' })
          .option('gdb', { type: 'number', describe: 'serve the GDB remote protocol on this loopback TCP port' })
          .option('quiet', { type: 'boolean', describe: 'leave out the guest console and the hypervisor log' })
          .example('$0 debug', 'the console on the bundled TVM ("help" lists the commands)')
          .example('$0 debug --script walkthrough.txt', 'run commands from a file')
          .example('$0 debug --gdb 1234', 'then: gdb firmware/tvm/tvm.elf -ex "target remote :1234"')
          .epilogue('Exit status: 0, or quit\'s; 1 when a script command fails or the image is bad; 2 for bad options.'),
        async (a) => {
          const views = a.views as number | undefined;
          const mem = checkDomainArgs(a.mem as string | undefined, views);
          const gdb = a.gdb as number | undefined;
          if (gdb !== undefined && (!Number.isInteger(gdb) || gdb < 0 || gdb > 65535)) throw new UsageError(`--gdb: "${a.gdb}" is not a TCP port`);
          const sm = a.systemMap as string | undefined;
          code = await debugCommand({
            image: a.image as string | undefined, memMiB: mem, cmdline: (a.cmdline as string | undefined) ?? '',
            systemMap: sm === undefined ? undefined : sm === 'none' ? false : sm,
            vmi: a.vmi === false ? false : { views, notify: a.notify as 'immediate' | 'tbuf' | undefined },
            script: a.script as string | undefined, gdbPort: gdb, quiet: a.quiet === true, profile: a.profile as string | undefined,
          });
        })
      .command('trace <file>', 'print a xentrace file (as written by `run --trace`) as text, one record a line',
        (y) => y.positional('file', { type: 'string', describe: 'trace file in xentrace\'s format' })
          .option('json', { type: 'boolean', describe: 'one JSON object a record' }),
        (a) => { code = traceCommand(a.file as string, a.json === true); })
      .command('bench <what>', 'benchmarks: `bench trigger` models the latency from a guest\'s VMI request to detection, trace record, Dom0 and the VMI program, per mechanism; `bench overhead` the TVM\'s slowdown (off, armed, VMFUNC trigger, pausing); `bench mips` guest MIPS against native and QEMU; `bench torn` how often a VMI walk of a changing guest is torn, per Dom0 mode and cost profile',
        (y) => y.positional('what', { choices: ['trigger', 'overhead', 'mips', 'torn'] as const, describe: 'which benchmark' })
          .option('profile', { type: 'string', describe: `CPU cost profile (${Object.keys(PROFILES).join(', ')}); default haswell (torn: all three)` })
          .option('requests', { type: 'number', describe: 'trigger: requests per mechanism (default 1000); torn: requests in the churn scenario (default 20)' })
          .option('rdtsc-loop', { type: 'number', default: 1000, describe: 'trigger: guest loop iterations (2 instructions each) between RDTSCs for the mechanism rows' })
          .option('rates', { type: 'string', default: '10,100,1000,10000,100000', describe: 'trigger: comma-separated loop lengths for the RDTSC-rate sweep of the VMFUNC path' })
          .option('poll-ms', { type: 'string', default: '1,10', describe: 'trigger: comma-separated periods of the Dom0-polling rows, ms; overhead: the first is the pausing Dom0\'s period' })
          .option('seed', { type: 'number', default: 1, describe: 'trigger: seed of the request phases' })
          .option('iterations', { type: 'number', describe: 'mips: workload iterations (default: calibrated to --target)' })
          .option('target', { type: 'number', describe: 'mips: emulator seconds to aim for when calibrating (default 3)' })
          .option('repeat', { type: 'number', describe: 'mips: native/QEMU runs, the fastest counts (default 5)' })
          .option('emu-runs', { type: 'number', describe: 'mips: measured emulator runs, the fastest counts (default 2)' })
          .option('native', { type: 'boolean', default: true, describe: 'mips: build and run the native executable (--no-native: skip)' })
          .option('qemu', { type: 'boolean', default: true, describe: 'mips: run it under qemu-x86_64 when installed (--no-qemu: skip)' })
          .option('ept', { type: 'boolean', describe: 'mips: also run the emulator with EPT on' })
          .option('svg', { type: 'string', describe: 'trigger, overhead: write SVG charts into this directory' })
          .option('json', { type: 'boolean', describe: 'print the results as JSON' })
          .example('$0 bench trigger', 'the table, Haswell profile, 1000 requests per row')
          .example('$0 bench trigger --profile icelake-sp --json', 'JSON for a recent server part')
          .example('$0 bench overhead --svg charts', 'the overhead table, and charts/overhead-*.svg')
          .example('$0 bench mips --target 1', 'emulator, native and QEMU MIPS')
          .example('$0 bench torn', 'consistent, retried and torn walks per mode and profile'),
        async (a) => {
          code = await benchCommand(a.what as 'trigger' | 'overhead' | 'mips' | 'torn', {
            profile: a.profile as string | undefined, json: a.json === true, svg: a.svg as string | undefined,
            requests: a.requests as number | undefined, rdtscLoop: a.rdtscLoop as number, rates: a.rates as string, pollMs: a.pollMs as string, seed: a.seed as number,
            iterations: a.iterations as number | undefined, target: a.target as number | undefined, repeat: a.repeat as number | undefined,
            emuRuns: a.emuRuns as number | undefined, native: a.native as boolean, qemu: a.qemu as boolean, ept: a.ept === true,
          });
        })
      .demandCommand(1, 'name a command (see --help)')
      .strict()
      .recommendCommands()
      .fail((msg, err, y) => {
        if (err) throw err;
        throw new UsageError(`${msg}\n\n${y.help() && ''}Run "vmfunc-vmi --help" for usage.`);
      })
      .help()
      .version()
      .parseAsync();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`vmfunc-vmi: ${msg}\n`);
    code = e instanceof UsageError || e instanceof BenchUsageError || e instanceof RunOptionError || e instanceof LaunchConfigError || e instanceof RangeError || e instanceof DebugError ? 2 : 1;
    if (e instanceof ImageError) code = 1;
  }
  process.exitCode = code;
}
