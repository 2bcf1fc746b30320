// Domain creation (Xen's domain_create + hvm_domain_initialise): guest RAM
// taken from machine memory through the frame allocator, the p2m built as
// EPT view 0 (Xen's p2m *is* the EPT on VT-x), the device model's ports,
// the timers, scheduler and interrupt controller, and the vCPUs. The hypervisor reaches guest memory only through the p2m
// (gpaToMachine walks the EPT) and the CPU's API.
import { Machine } from '../machine.js';
import { FrameAllocator, PAGE_SIZE } from './frames.js';
import { P2mPool, defaultP2mPoolPages } from './p2m-pool.js';
import { EptTable, EPT_RWX } from './ept.js';
import { Vcpu } from './vcpu.js';
import { TimerQueue } from './timer.js';
import { Scheduler } from './sched.js';
import { HvmIrq, type InterruptController } from './hvm/irq.js';
import { PcPlatform, type PcPlatformOptions } from './hvm/pc.js';
import { PortIoBus } from './devices/portio.js';
import { MmioBus } from './devices/mmio.js';
import { Uart16550 } from './devices/uart16550.js';
import { DebugExit, EXIT_PORT } from './devices/debugexit.js';
import type { XenCosts } from './cost.js';
import { MSR_IA32_APIC_BASE } from '../../assembly/shared/msr-index.js';
import { getProfile, xenCosts, applyInsnCosts, type CostProfile } from './cost-profiles.js';
import type { ShutdownReason } from './public.js';
import { vcpuShowRegisters } from './dump.js';
import { guestWalk } from './paging.js';
import { MemSnapshot, SnapshotPool } from './snapshot.js';

export const COM1 = 0x3f8;
/** Machine address (MiB) where guest RAM starts. */
export const GUEST_RAM_BASE_MIB = 2;
export const DEFAULT_HZ = 1000;            // timer ticks per second of virtual time
export const DEFAULT_TIMER_VECTOR = 0x20;

export interface DomainConfig {
  /** Guest RAM in MiB (guest-physical [0, memMiB MiB)). */
  memMiB: number;
  domid?: number;
  name?: string;
  /** TSC frequency the guest is told (kHz); virtual cycles are TSC cycles. */
  tscKhz?: number;
  /** Periodic timer: period in TSC cycles (default tscKhz * 1000 / DEFAULT_HZ) and vector. */
  timerPeriod?: bigint;
  timerVector?: number;
  /** Machine memory beyond guest RAM for the hypervisor's own frames (bitmaps, trace buffers, ...), besides the p2m pool. */
  xenHeapMiB?: number;
  /** The p2m pool's size in 4 KiB pages (Xen's paging pool, `xl` shadow_memory): every EPT table of the domain comes from it. Default: libxl's (src/xen/p2m-pool.ts). */
  p2mPoolPages?: number;
  /** EPT page size for guest RAM: 2 MiB superpages (Xen's default where aligned) or 4 KiB. */
  p2mPageSize?: '2m' | '4k';
  /** Enable EPT-violation #VE (secondary control bit 18) with the information page at veInfoGpa. */
  ve?: boolean;
  veInfoGpa?: number;
  /** The CPU cost profile (src/xen/cost-profiles.ts; default 'haswell'): instruction costs, exit costs, TSC frequency. */
  profile?: string | CostProfile;
  /** Overrides the profile's hypervisor costs. */
  costs?: XenCosts;
  /**
   * The platform devices: 'tvm' (default; the TVM mini-OS's: vectors wired straight to a periodic
   * timer) or 'pc' (src/xen/hvm/pc.ts: 8259A PICs, 8254 PIT, MC146818 RTC, the 16550 with its
   * interrupt on IRQ4, as Xen gives an HVM guest without an APIC).
   */
  platform?: 'tvm' | 'pc';
  /** Options of the 'pc' platform (RTC start time, local APIC). */
  pc?: PcPlatformOptions;
  /** Guest console output (serial and console_io), byte by byte in order. */
  console?: (bytes: Uint8Array) => void;
  /** Hypervisor log lines (Xen's console), without the "(XEN) " prefix. */
  log?: (line: string) => void;
}

export interface ShutdownInfo {
  reason: ShutdownReason;
  /** The exit status the run reports (exit port value, or derived from the reason). */
  status: number;
  source: 'exit-port' | 'hypercall' | 'hlt' | 'hypervisor';
  message: string;
}

export class Domain {
  readonly id: number;
  readonly name: string;
  readonly machine: Machine;
  readonly frames: FrameAllocator;
  readonly memBytes: number;
  readonly ramBase: number;       // machine address of guest-physical 0 (guest RAM is contiguous)
  readonly p2m: EptTable;         // EPT view 0
  /** The frames the domain's EPT tables come from (src/xen/p2m-pool.ts). */
  readonly p2mPool: P2mPool;
  readonly tscKhz: number;
  readonly costs: XenCosts;
  readonly profile: CostProfile;
  readonly io = new PortIoBus();
  /** MMIO handlers (register_mmio_handler); src/xen/vmexit/ept.ts brings the guest's accesses here. */
  readonly mmio = new MmioBus((message) => this.crash(message),
    (line) => this.log(`d${this.id}v${(this.sched?.current ?? this.vcpus?.[0])?.id ?? 0} ${line}`));
  readonly uart: Uart16550;
  readonly veInfoGpa: number;
  readonly veEnabled: boolean;
  /** The one virtual-time event queue (src/xen/timer.ts), the scheduler on it, the interrupt controller. */
  readonly timers = new TimerQueue();
  readonly sched: Scheduler;
  readonly irq: InterruptController;
  readonly platform: 'tvm' | 'pc';
  /** The TVM platform's controller (lines wired straight to vectors); undefined on 'pc'. */
  readonly tvmIrq: HvmIrq | undefined;
  /** The PC platform's devices; undefined on 'tvm'. */
  readonly pc: PcPlatform | undefined;
  /** d->vcpu[]: one vCPU today. */
  readonly vcpus: Vcpu[];
  /** d->pause_count (domain_pause). */
  pauseCount = 0;
  /** The paper's mechanism, when enabled (src/xen/trigger.ts): altp2m views, trace buffers, VMI requests. */
  trigger: import('./trigger.js').VmiTrigger | undefined;
  /** A VMI program's copy-before-write snapshot of RAM while it runs (src/xen/snapshot.ts), one at a time. */
  snapshot: MemSnapshot | undefined;
  private snapshotPool: SnapshotPool | undefined;
  shutdownInfo: ShutdownInfo | undefined;
  /** Console bytes written by the guest. */
  consoleBytes = 0;
  private readonly consoleSink: (bytes: Uint8Array) => void;
  private readonly logSink: (line: string) => void;

  constructor(cfg: DomainConfig) {
    const memMiB = cfg.memMiB;
    if (!Number.isInteger(memMiB) || memMiB < 2) throw new RangeError(`guest memory must be a whole number of MiB >= 2 (got ${memMiB})`);
    this.id = cfg.domid ?? 1;
    this.name = cfg.name ?? `d${this.id}`;
    this.memBytes = memMiB * 1024 * 1024;
    this.profile = getProfile(cfg.profile);
    // The TSC runs at the profile's nominal frequency unless the caller fixes it (run.ts passes 2 GHz).
    this.tscKhz = cfg.tscKhz ?? this.profile.freqKhz.value;
    this.costs = cfg.costs ?? xenCosts(this.profile);
    this.consoleSink = cfg.console ?? (() => {});
    this.logSink = cfg.log ?? (() => {});
    const nrVcpus = 1;
    const poolPages = cfg.p2mPoolPages ?? defaultP2mPoolPages(memMiB, nrVcpus);
    if (!Number.isInteger(poolPages) || poolPages < 1) throw new RangeError(`p2m pool must be a whole number of pages >= 1 (got ${poolPages})`);
    // The heap holds the hypervisor's own frames and, set aside, the p2m pool.
    const heapMiB = (cfg.xenHeapMiB ?? 8) + Math.ceil(poolPages / 256);
    // Machine memory: [0, 2 MiB) unused, guest RAM at 2 MiB (aligned for superpage mappings), then
    // the hypervisor's heap, handed out by the frame allocator. Guest RAM is carved out before the
    // allocator's range rather than allocated from it: fresh Wasm memory is already zero, and
    // FrameAllocator.alloc() would clear (and so make the host commit) every page of it -- about
    // 200 ms for 64 MiB, most of a boot.
    this.machine = Machine.createSync({ memMiB: GUEST_RAM_BASE_MIB + memMiB + heapMiB });
    this.ramBase = GUEST_RAM_BASE_MIB << 20;
    applyInsnCosts(this.machine, this.profile);
    this.frames = new FrameAllocator(this.machine, (this.ramBase + this.memBytes) / PAGE_SIZE);
    this.p2mPool = new P2mPool(this.frames, (a, n) => this.machine.fillPhys(a, n, 0), poolPages);

    // The p2m: guest-physical RAM -> machine frames, read/write/execute, write-back.
    this.p2m = new EptTable(this.machine, this.p2mPool);
    const big = (cfg.p2mPageSize ?? '2m') === '2m' ? Math.floor(this.memBytes / (2 << 20)) * (2 << 20) : 0;
    if (big) this.p2m.map(0n, BigInt(this.ramBase), BigInt(big), EPT_RWX, '2m');
    if (this.memBytes > big) this.p2m.map(BigInt(big), BigInt(this.ramBase + big), BigInt(this.memBytes - big), EPT_RWX, '4k');

    this.veInfoGpa = cfg.veInfoGpa ?? 0x4000;
    this.veEnabled = cfg.ve ?? false;
    this.uart = new Uart16550(COM1, (b) => {
      const byte = new Uint8Array(1);   // a fresh array per byte (the sink may keep it), without an array literal's iteration
      byte[0] = b;
      this.consoleOut(byte);
    });
    this.io.register(COM1, 8, this.uart);
    this.platform = cfg.platform ?? 'tvm';
    if (this.platform === 'pc') {
      const m = this.machine, hz = BigInt(this.tscKhz) * 1000n;
      this.pc = new PcPlatform({ timers: this.timers, cpu: 0, hz, now: () => m.vcycles }, this.io, this.uart, cfg.pc,
        { mmio: this.mmio, apicBase: () => m.rdmsr(MSR_IA32_APIC_BASE) });
      this.irq = this.pc.irq;
      this.tvmIrq = undefined;
    } else {
      this.tvmIrq = new HvmIrq();
      this.irq = this.tvmIrq;
      this.pc = undefined;
    }
    this.io.register(EXIT_PORT, 2, new DebugExit((status) => this.shutdown({
      reason: 'poweroff', status, source: 'exit-port', message: `exit port 0x${EXIT_PORT.toString(16)}: status ${status}`,
    })));
    const period = cfg.timerPeriod ?? BigInt(Math.round(this.tscKhz * 1000 / DEFAULT_HZ));
    this.sched = new Scheduler(this, nrVcpus);
    this.vcpus = [];
    for (let id = 0; id < nrVcpus; id++) {
      this.vcpus.push(new Vcpu(this, { id, timerPeriod: period, timerVector: cfg.timerVector ?? DEFAULT_TIMER_VECTOR }));
    }
  }

  get isShutdown(): boolean { return this.shutdownInfo !== undefined; }

  log(line: string): void { this.logSink(line); }

  consoleOut(bytes: Uint8Array): void {
    this.consoleBytes += bytes.length;
    this.consoleSink(bytes);
  }

  /** domain_shutdown(): the first reason wins. */
  shutdown(info: ShutdownInfo): void {
    if (this.shutdownInfo) return;
    this.shutdownInfo = info;
  }

  /** domain_crash(): log, dump the current vCPU's state, shut down with reason crash. */
  crash(message: string): void {
    if (this.shutdownInfo) return;
    const v = this.sched.current ?? this.vcpus[0];
    this.log(`d${this.id}v${v.id} ${message}`);
    this.log(`Domain ${this.id} (vcpu#${v.id}) crashed on cpu#${v.processor}:`);
    for (const l of vcpuShowRegisters(v)) this.log(l);
    this.shutdown({ reason: 'crash', status: CRASH_STATUS, source: 'hypervisor', message });
  }

  /** Takes a snapshot of RAM now (the guest is charged the pass); undefined if one is already held. */
  takeSnapshot(maxCopies?: number): MemSnapshot | undefined {
    if (this.snapshot) return undefined;
    this.snapshotPool ??= new SnapshotPool(this);
    this.snapshot = new MemSnapshot(this, this.snapshotPool, maxCopies);
    return this.snapshot;
  }

  // ---- the p2m ---------------------------------------------------------------

  /** Machine address of guest-physical `gpa` by a walk of EPT view 0, or undefined if unmapped. */
  gpaToMachine(gpa: number): number | undefined {
    if (!Number.isSafeInteger(gpa) || gpa < 0) return undefined;
    const g = BigInt(gpa);
    let table = this.p2m.root;
    for (let level = 4; level >= 1; level--) {
      const shift = BigInt(12 + 9 * (level - 1));
      const e = this.machine.read64(table + Number((g >> shift) & 511n) * 8);
      if ((e & 7n) === 0n) return undefined;
      const frame = e & 0x000ffffffffff000n;
      if (level === 1 || (level <= 3 && (e & 0x80n))) {
        const mask = (1n << shift) - 1n;
        return Number((frame & ~mask) | (g & mask));
      }
      table = Number(frame);
    }
    return undefined;
  }

  /** Copies into guest-physical memory page by page through the p2m; false if a page is unmapped. */
  writeGuestPhys(gpa: number, data: Uint8Array): boolean {
    for (let off = 0; off < data.length;) {
      const ma = this.gpaToMachine(gpa + off);
      if (ma === undefined) return false;
      const n = Math.min(data.length - off, PAGE_SIZE - ((gpa + off) % PAGE_SIZE));
      if (this.snapshot) this.machine.addVcycles(this.snapshot.copyBeforeWrite(gpa + off));
      this.machine.writePhys(ma, data.subarray(off, off + n));
      off += n;
    }
    return true;
  }

  readGuestPhys(gpa: number, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let off = 0; off < len;) {
      const ma = this.gpaToMachine(gpa + off);
      if (ma === undefined) return undefined;
      const n = Math.min(len - off, PAGE_SIZE - ((gpa + off) % PAGE_SIZE));
      out.set(this.machine.readPhys(ma, n), off);
      off += n;
    }
    return out;
  }

  /** Guest-physical address of guest-linear `la` under the vCPU's CR3 (the hypervisor's own page walk). */
  gvaToGpa(la: bigint, write = false): number | undefined {
    return guestWalk(this, this.machine.vmread('GUEST_CR3'), la, write);
  }

  /** copy_from_guest for an HVM guest: a guest-linear range under the vCPU's CR3, then the p2m. */
  copyFromGuestVirt(la: bigint, len: number): Uint8Array | undefined {
    const out = new Uint8Array(len);
    for (let off = 0; off < len;) {
      const addr = BigInt.asUintN(64, la + BigInt(off));
      const gpa = this.gvaToGpa(addr);
      if (gpa === undefined) return undefined;
      const n = Math.min(len - off, PAGE_SIZE - Number(addr & 0xfffn));
      const bytes = this.readGuestPhys(gpa, n);
      if (!bytes) return undefined;
      out.set(bytes, off);
      off += n;
    }
    return out;
  }

  copyToGuestVirt(la: bigint, data: Uint8Array): boolean {
    for (let off = 0; off < data.length;) {
      const addr = BigInt.asUintN(64, la + BigInt(off));
      const gpa = this.gvaToGpa(addr, true);
      if (gpa === undefined) return false;
      const n = Math.min(data.length - off, PAGE_SIZE - Number(addr & 0xfffn));
      if (!this.writeGuestPhys(gpa, data.subarray(off, off + n))) return false;
      off += n;
    }
    return true;
  }
}

/** Exit status of a run whose domain crashed (triple fault, unexpected exit, guest-requested crash). */
export const CRASH_STATUS = 125;
