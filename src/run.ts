// `vmfunc-vmi run` as a library call: read and validate an ELF64 image, build
// a domain, boot the image by the boot protocol, run the vCPU until the guest
// shuts down or a limit is reached, and summarise the run.
import type { JitStats } from './jit/host.js';
import { Machine } from './machine.js';
import { statSync } from 'node:fs';
import { readInputFile, InputFileError, type InputKind } from './util/files.js';
import { basename, dirname, join } from 'node:path';
import { newcArchive } from './util/cpio.js';
import { performance } from 'node:perf_hooks';
import type { StopReason } from './xen/sched.js';
import { exitHistogram } from './xen/vcpu.js';
import { Domain, CRASH_STATUS, type DomainConfig } from './xen/domain.js';
import { getProfile, type CostProfile } from './xen/cost-profiles.js';
import { parseElf64, ImageError } from './xen/elf.js';
import { bootImage, BOOTINFO_F_VMFUNC, type BootLayout, type BootOptions } from './xen/boot.js';
import { isBzImage, parseBzImage } from './xen/bzimage.js';
import { bootLinux, type LinuxBootLayout } from './xen/boot-linux.js';
import { VmiTrigger, type VmiTriggerOptions } from './xen/trigger.js';
import { DEFAULT_VMI_QUEUE, DEFAULT_VMI_RATE } from './xen/vm_event.js';
import { Dom0, type HandledRequest } from './dom0/dom0.js';
import { writeFileSync } from 'node:fs';
import { HYPERCALL_NAMES } from './xen/public.js';
import { packageRoot } from './util/paths.js';
import { fmtNs, parseCount as parseSuffixedCount } from './util/format.js';

/** Exit status of a run stopped by --max-insns or --max-vtime (as timeout(1) reports). */
export const LIMIT_STATUS = 124;
export const MAX_GUEST_MIB = 3000;
/** The kernel's console line that says user space is about to start (Linux prints the same). */
export const FIRST_USER_MARKER = /Run \/\S+ as init process/;

export class RunOptionError extends Error {}

export interface RunOptions {
  /**
   * ELF64 image following our boot protocol, or a Linux bzImage (told apart by content); the short
   * names `tvm` (the default, firmware/tvm/tvm.elf) and `linux` (firmware/linux/bzImage with its
   * initramfs and command line) name the bundled guests.
   */
  image?: string;
  /** Initial ramdisk for a bzImage (default for `linux`: firmware/linux/initramfs.cpio). */
  initrd?: string;
  /** Files added to the initrd as /bin/<name> (a newc archive appended to it: src/util/cpio.ts). */
  addFiles?: string[];
  memMiB?: number;
  cmdline?: string;
  maxInsns?: bigint;
  /** Virtual-time limit in TSC cycles. */
  maxVtime?: bigint;
  /** System.map to load: a path, false for none; default System.map beside the image if present. */
  systemMap?: string | false;
  /** TSC frequency in kHz; default: the cost profile's nominal frequency. */
  tscKhz?: number;
  /**
   * CPU cost profile (src/xen/cost-profiles.ts). Default 'placeholder' (2 GHz TSC, the round numbers the
   * TVM's tests were written against); 'haswell' and 'icelake-sp' carry cited costs and their own frequency.
   */
  profile?: string | CostProfile;
  timerPeriod?: bigint;
  /** Guest console bytes, as they are written. */
  onConsole?: (bytes: Uint8Array) => void;
  /** Hypervisor log lines. */
  onLog?: (line: string) => void;
  /** Console line that marks the start of the first user process (null: none). */
  firstUserMarker?: RegExp | null;
  /** Extra domain configuration (tests, later issues). */
  domain?: Partial<DomainConfig>;
  /** Extra boot-protocol options. */
  boot?: Partial<BootOptions>;
  /** Called with the domain after the image is loaded, before the vCPU first runs. */
  beforeRun?: (d: Domain, layout: BootLayout) => void;
  /** The paper's mechanism: altp2m views with mirrors, VMFUNC, trace buffers, Dom0 (false/undefined: off). */
  vmi?: VmiRunOptions | false;
}

export interface VmiRunOptions extends VmiTriggerOptions {
  /** Write the xentrace file Dom0's trace daemon collected. */
  traceFile?: string;
  /** Dom0 received a request (the VMI launcher hooks in here). */
  onRequest?: (h: HandledRequest, d: Domain) => void;
  /** Dom0's log lines. */
  onDom0Log?: (line: string) => void;
}

export interface VmiRequestSummary {
  domid: number; vcpu: number; eptp_index: number; parameter: number; rip: string; cr3: string;
  detected_vcycles: number; dom0_vcycles: number; woken_by: string;
  /** From the guest's request (its VMFUNC is not visible; detection is the RDTSC exit that noticed it) to Dom0 reading the record. */
  notify_latency_ns: number;
}

export interface RunSummary {
  image: string;
  exit: { status: number; kind: 'shutdown' | 'crash' | 'limit'; reason: string; detail: string };
  insns: number;
  vcycles: number;
  vtime_ns: number;
  host_ms: number;
  mips: number;
  first_user_process: { host_ms: number; insns: number; vcycles: number } | null;
  exits: { total: number; by_reason: Record<string, number> };
  hypercalls: Record<string, number>;
  timer: { vector: number; period_cycles: number; ticks_injected: number; ticks_missed: number };
  halted_cycles: number;
  exit_cycles: number;
  vmi_requests: VmiRequestSummary[];
  /** VMI requests lost because the domain's request ring was full or over its rate (src/xen/vm_event.ts); null without the mechanism. */
  vmi_requests_dropped: { total: number; ring_full: number; rate: number; queue: number | null; rate_per_s: number | null } | null;
  trace: { records: number; dropped: number; file?: string } | null;
  console_bytes: number;
  mem_mib: number;
  tsc_khz: number;
  /** The JIT's statistics (src/jit/host.ts), when the command line turned it on (--jit on). */
  jit?: JitStats;
}

export function defaultImagePath(): string { return join(packageRoot(), 'firmware', 'tvm', 'tvm.elf'); }

/** The bundled Linux guest (firmware/linux/README.md). */
export function bundledLinux(): { kernel: string; initrd: string; cmdline: string } {
  const dir = join(packageRoot(), 'firmware', 'linux');
  return { kernel: join(dir, 'bzImage'), initrd: join(dir, 'initramfs.cpio'), cmdline: LINUX_DEFAULT_CMDLINE };
}
/** The bundled Linux's command line: the 16550 console; the PIT and PIC as timer and interrupt controller; a panic reboots (a triple fault here, which ends the run). */
export const LINUX_DEFAULT_CMDLINE = 'console=ttyS0 nolapic panic=-1';

function readInput(file: string, kind: InputKind, what: string): Uint8Array {
  try { return readInputFile(file, kind, what); } catch (e) {
    if (e instanceof InputFileError) throw new ImageError(file, e.detail);
    throw e;
  }
}

/** Parses an instruction count: an integer with an optional k/M/G suffix (powers of 1000). */
export function parseCount(text: string, option: string): bigint {
  return parseSuffixedCount(text, (p) => new RunOptionError(p === 'syntax'
    ? `${option}: "${text}" is not a count (an integer, optionally with k, M or G)` : `${option}: must be positive`));
}

/** Parses a virtual time: TSC cycles ("5000000", "5M" or "5Mcycles") or a duration ("10ms", "2s", "500us", "800ns"). */
export function parseVtime(text: string, tscKhz: number, option = '--max-vtime'): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:(ns|us|µs|ms|s)|([kKmMgG]?)\s*(?:cycles?)?)\s*$/.exec(text);
  if (!m) throw new RunOptionError(`${option}: "${text}" is not a virtual time (cycles, or a number with ns, us, ms or s)`);
  let cycles: number;
  if (m[2]) {
    const ns = Number(m[1]) * { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns'];
    cycles = (ns * tscKhz) / 1e6;
  } else {
    cycles = Number(m[1]) * { '': 1, k: 1e3, m: 1e6, g: 1e9 }[(m[3] ?? '').toLowerCase() as ''];
  }
  if (!(cycles >= 1) || !Number.isFinite(cycles)) throw new RunOptionError(`${option}: "${text}" is less than one cycle`);
  return BigInt(Math.round(cycles));
}

export function checkMem(memMiB: number): number {
  if (!Number.isInteger(memMiB) || memMiB < 2 || memMiB > MAX_GUEST_MIB) {
    throw new RunOptionError(`--mem: ${memMiB} is not a guest memory size in MiB (an integer from 2 to ${MAX_GUEST_MIB})`);
  }
  return memMiB;
}

/** A domain created and booted the way `run` does it, before its vCPU first runs (runImage, the debugger). */
export interface PreparedRun {
  image: string;
  memMiB: number;
  tscKhz: number;
  d: Domain;
  layout: BootLayout;
  /** Where a bzImage's kernel, boot_params and initrd went (undefined for an ELF image). */
  linux: LinuxBootLayout | undefined;
  mech: VmiTrigger | undefined;
  dom0: Dom0 | undefined;
  /** The System.map placed in guest memory, if any. */
  systemMap: Uint8Array | undefined;
  /** performance.now() when the domain was created. */
  t0: number;
  /** The first user process's start (FIRST_USER_MARKER seen on the console), once it has happened. */
  firstUser(): RunSummary['first_user_process'];
}

/** Reads the image, creates the domain (with the mechanism and Dom0 when opts.vmi), boots the image. */
export function prepareRun(opts: RunOptions = {}): PreparedRun {
  const bundled = opts.image === 'linux' ? bundledLinux() : undefined;
  const image = bundled?.kernel ?? (opts.image === undefined || opts.image === 'tvm' ? defaultImagePath() : opts.image);
  const memMiB = checkMem(opts.memMiB ?? 64);
  const profile = getProfile(opts.profile ?? 'placeholder');
  const tscKhz = opts.tscKhz ?? profile.freqKhz.value;
  const bytes = readInput(image, 'image', 'the image');
  const bz = isBzImage(bytes) ? parseBzImage(bytes, image) : undefined;
  const elf = bz ? undefined : parseElf64(bytes, image);
  const initrdPath = opts.initrd ?? bundled?.initrd;
  if (initrdPath !== undefined && !bz) throw new RunOptionError(`--initrd: ${image} is not a Linux bzImage (an initrd goes with a kernel)`);
  let initrd = initrdPath !== undefined ? readInput(initrdPath, 'image', 'the initrd') : undefined;
  if (opts.addFiles?.length) {
    if (!initrd) throw new RunOptionError('--add: files go into a Linux kernel\'s initrd; give --initrd or boot `linux`');
    const extra = newcArchive(opts.addFiles.map((f) => ({ name: `bin/${basename(f)}`, data: readInput(f, 'image', `--add ${f}`) })));
    const joined = new Uint8Array(initrd.length + (4 - (initrd.length % 4)) % 4 + extra.length);
    joined.set(initrd); joined.set(extra, joined.length - extra.length);
    initrd = joined;
  }
  const cmdline = opts.cmdline ?? bundled?.cmdline ?? (bz ? LINUX_DEFAULT_CMDLINE : '');
  let systemMap: Uint8Array | undefined;
  if (opts.systemMap !== false) {
    const beside = join(dirname(image), 'System.map');
    const path = opts.systemMap ?? beside;
    let present = true;
    if (opts.systemMap === undefined) { try { statSync(path); } catch { present = false; } }
    if (present) systemMap = readInput(path, 'system map', 'System.map');
  }

  const t0 = performance.now();
  const marker = opts.firstUserMarker === undefined ? FIRST_USER_MARKER : opts.firstUserMarker;
  let firstUser: RunSummary['first_user_process'] = null;
  let line = '';
  let d: Domain | undefined;
  const onConsole = opts.onConsole;
  const console = (b: Uint8Array) => {
    onConsole?.(b);
    if (!marker || firstUser || !d) return;
    for (const c of b) {
      if (c === 10) {
        if (marker.test(line)) {
          firstUser = { host_ms: round3(performance.now() - t0), insns: Number(d.machine.insnsRetired), vcycles: Number(d.machine.vcycles) };
          return;
        }
        line = '';
      } else if (line.length < 4096) line += String.fromCharCode(c);
    }
  };
  d = new Domain({
    // With the mechanism the domain also gets EPT-violation #VE, as the paper's TVM has it.
    // A Linux kernel gets the PC platform (8259 PICs, 8254 PIT, CMOS RTC, 16550A); our own images the TVM's.
    memMiB, tscKhz, profile, timerPeriod: opts.timerPeriod, ...(opts.vmi ? { ve: true } : {}), ...(bz ? { platform: 'pc' as const } : {}), ...opts.domain,
    console, log: opts.onLog,
  });
  let mech: VmiTrigger | undefined;
  let dom0: Dom0 | undefined;
  const vmiOpts = opts.vmi || undefined;
  if (vmiOpts) {
    const dd = d;
    // `run`'s bounds on the requests a guest can raise (vmi/README.md): a ring of DEFAULT_VMI_QUEUE slots, DEFAULT_VMI_RATE a second.
    mech = new VmiTrigger(dd, { ...vmiOpts, queue: vmiOpts.queue ?? DEFAULT_VMI_QUEUE, rate: vmiOpts.rate ?? DEFAULT_VMI_RATE });
    dom0 = new Dom0(dd, mech, (h) => {
      const ns = Number(h.dom0At - h.detectedAt) * 1e6 / tscKhz;
      vmiOpts.onDom0Log?.(`VMI request from d${h.request.domid}v${h.request.vcpu}: EPTP index ${h.request.eptpIndex} ` +
        `(parameter ${h.request.parameter}), detected at ${fmtNs(Number(h.detectedAt) * 1e6 / tscKhz)} virtual, ` +
        `read by Dom0 ${fmtNs(ns)} later (${h.wokenBy})`);
      vmiOpts.onRequest?.(h, dd);
    });
  }
  let layout: BootLayout, linux: LinuxBootLayout | undefined;
  if (bz) {
    linux = bootLinux(d, bz, { cmdline, initrd, initrdFile: initrdPath });
    layout = { entry: linux.entry, bootInfoGpa: linux.bootParamsGpa, imageStart: linux.kernelStart, imageEnd: linux.kernelEnd,
      sysmapGpa: 0, sysmapLen: 0, freeStart: linux.kernelEnd };
  } else {
    layout = bootImage(d, elf!, {
      cmdline, systemMap,
      ...(mech ? { flags: BOOTINFO_F_VMFUNC, eptpViews: mech.altp2m.viewCount } : {}),
      ...opts.boot,
    });
  }
  return { image, memMiB, tscKhz, d, layout, linux, mech, dom0, systemMap, t0, firstUser: () => firstUser };
}

export function runImage(opts: RunOptions = {}): RunSummary {
  const p = prepareRun(opts);
  opts.beforeRun?.(p.d, p.layout);
  const stop = p.d.sched.run({ maxInsns: opts.maxInsns, maxVcycles: opts.maxVtime });
  return summarizeRun(p, opts, stop);
}

/** The end of a run: Dom0's last read of the trace buffers, the trace file, and the summary. */
export function summarizeRun(p: PreparedRun, opts: RunOptions, stop: StopReason): RunSummary {
  const { image, memMiB, tscKhz, d, mech, dom0, t0, firstUser } = p;
  const vmiOpts = opts.vmi || undefined;
  dom0?.flush();
  // Records dropped since the last one that fitted: their LOST_RECORDS record, now that Dom0 made room.
  if (dom0 && mech) for (let cpu = 0; cpu < mech.trace.cpus; cpu++) if (mech.trace.flushLost(cpu, d.machine.vcycles)) dom0.consumer.poll();
  const hostMs = performance.now() - t0;
  if (vmiOpts?.traceFile && dom0) writeFileSync(vmiOpts.traceFile, dom0.consumer.file());

  const m = d.machine;
  let exit: RunSummary['exit'];
  if (stop.kind === 'limit') {
    exit = { status: LIMIT_STATUS, kind: 'limit', reason: stop.which,
      detail: stop.which === 'max-insns' ? `stopped after ${m.insnsRetired} instructions (--max-insns)` : `stopped at ${m.vcycles} virtual cycles (--max-vtime)` };
  } else if (stop.kind === 'paused') {
    throw new Error(`d${d.id}: the run stopped with every vCPU paused and nothing to unpause them`);
  } else {
    const s = d.shutdownInfo!;
    exit = { status: s.status & 0xff, kind: s.reason === 'crash' ? 'crash' : 'shutdown', reason: s.reason, detail: s.message };
    if (s.status === CRASH_STATUS) exit.kind = 'crash';
  }
  // The domain's figures: each vCPU's, added up.
  const exits = new Map<number, number>(), calls = new Map<number, number>();
  let halted = 0n, exitCycles = 0n, injected = 0, missed = 0;
  for (const v of d.vcpus) {
    for (const [r, n] of v.stats.exits) exits.set(r, (exits.get(r) ?? 0) + n);
    for (const [h, n] of v.stats.hypercalls) calls.set(h, (calls.get(h) ?? 0) + n);
    halted += v.stats.haltedCycles; exitCycles += v.stats.exitCycles;
    injected += v.timer?.injected ?? 0; missed += v.timer?.missed ?? 0;
  }
  const byReason = exitHistogram(exits);
  const hypercalls: Record<string, number> = {};
  for (const [n, c] of [...calls.entries()].sort((a, b) => a[0] - b[0])) hypercalls[HYPERCALL_NAMES[n] ?? (n <= 0xffff ? `hypercall_${n}` : `hypercall_0x${n.toString(16)}`)] = c;
  const timer = d.vcpus[0].timer;   // every vCPU's timer has the domain's period and vector
  const insns = Number(m.insnsRetired), vcycles = Number(m.vcycles);
  return {
    image, exit, insns, vcycles,
    vtime_ns: Math.round((vcycles * 1e6) / tscKhz),
    host_ms: round3(hostMs),
    mips: round3(insns / (hostMs * 1000)),
    first_user_process: firstUser(),
    exits: { total: Object.values(byReason).reduce((a, b) => a + b, 0), by_reason: byReason },
    hypercalls,
    timer: { vector: timer?.vector ?? 0, period_cycles: Number(timer?.period ?? 0n), ticks_injected: injected, ticks_missed: missed },
    halted_cycles: Number(halted),
    exit_cycles: Number(exitCycles),
    ...(d.machine.jit && Machine.reportJit ? { jit: d.machine.jitStats } : {}),
    vmi_requests: (dom0?.handled ?? []).map((h) => ({
      domid: h.request.domid, vcpu: h.request.vcpu, eptp_index: h.request.eptpIndex, parameter: h.request.parameter,
      rip: '0x' + h.request.rip.toString(16), cr3: '0x' + h.request.cr3.toString(16),
      detected_vcycles: Number(h.detectedAt), dom0_vcycles: Number(h.dom0At), woken_by: h.wokenBy,
      notify_latency_ns: Math.round(Number(h.dom0At - h.detectedAt) * 1e6 / tscKhz),
    })),
    vmi_requests_dropped: mech ? {
      total: mech.ring.dropped, ring_full: mech.ring.droppedFull, rate: mech.ring.droppedRate,
      queue: Number.isFinite(mech.ring.slots) ? mech.ring.slots : null, rate_per_s: Number.isFinite(mech.ring.ratePerSec) ? mech.ring.ratePerSec : null,
    } : null,
    trace: mech ? { records: mech.trace.written, dropped: mech.trace.dropped, file: vmiOpts?.traceFile } : null,
    console_bytes: d.consoleBytes,
    mem_mib: memMiB,
    tsc_khz: tscKhz,
  };
}

function round3(x: number): number { return Math.round(x * 1000) / 1000; }
