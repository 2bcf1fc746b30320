// The host's handle on the emulated hardware: the Wasm CPU (build/cpu.wasm)
// and its machine memory. Everything a hypervisor could do on real VT-x
// hardware goes through here: VMREAD/VMWRITE, VMRESUME, its GPR save area,
// and reads and writes of host-physical memory.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './util/paths.js';
import { fieldEncoding, fieldName, INTR_INFO_DELIVER_CODE_MASK } from './vmcs.js';
import { MAX_BREAKPOINTS } from '../assembly/shared/limits.js';
import { GPR_NAMES } from '../assembly/shared/regs.js';
import { MMIO_DONE, MMIO_EXCEPTION } from '../assembly/shared/mmio.js';
import { FX_IMAGE_BYTES } from '../assembly/shared/fxsave.js';
import { JitHost, type JitCpuExports, type JitStats } from './jit/host.js';
import { optimiseFirstCalls, startTiering, tiered } from './jit/tiers.js';

interface CpuExports {
  memory: WebAssembly.Memory;
  init(bytes: bigint): number;
  machineBase(): number;
  scratchBase(): number;
  vmread(enc: number): bigint;
  vmwrite(enc: number, v: bigint): number;
  vmfieldExists(enc: number): number;
  vmfieldAccess(enc: number): number;
  regsBase(): number;
  vmresume(budget: bigint): number;
  getCr2(): bigint; setCr2(v: bigint): void; getCr8(): bigint;
  getXcr0(): bigint; setXcr0(v: bigint): void;
  fxStateSave(): number; fxStateLoad(): void;
  hostRdmsr(msr: number): bigint;
  hostWrmsr(msr: number, v: bigint): number;
  insnsRetired(): bigint;
  vcycles(): bigint;
  addVcycles(n: bigint): void;
  setCost(op: number, cycles: number): void;
  postExternalInterrupt(v: number): void;
  invalidateCode(): void;
  invalidateCodeRange(hpa: bigint, len: bigint): void;
  flushTlb(): void;
  invept(): void;
  eptProbe(eptp: bigint, gpa: bigint, kind: number): bigint;
  eptProbeQual(): bigint;
  decodeLength(): number;
  decodeBlock(): number;
  translateLinear(la: bigint): bigint;
  fnv1a64(hpa: bigint, len: number): bigint;
  decodes(): bigint;
  debugBreakpointTable(): number;
  debugSetBreakpoints(n: number): void;
  debugBreakOnVmfunc(on: number): void;
  debugSkipOnce(): void;
  mmioEmulate(): number;
  mmioEventInfo(): number; mmioEventErrorCode(): number; mmioEventCr2(): bigint;
  setJit(on: number, threshold: number): void;
  mmioExitReason(): number; mmioExitQualification(): bigint; mmioExitGpa(): bigint; mmioExitGla(): bigint;
}

/**
 * The device side of MMIO emulation (see Machine.emulateMmio): which guest-physical addresses
 * are MMIO, and their reads and writes (size 1, 2, 4 or 8 bytes; values zero-extended).
 */
export interface MmioAccess {
  claims(gpa: bigint): boolean;
  read(gpa: bigint, size: number): bigint;
  write(gpa: bigint, size: number, value: bigint): void;
  /** Port reads and writes of an emulated INS/OUTS (size 1, 2 or 4); without them a port reads all ones. */
  portRead?(port: number, size: number): number;
  portWrite?(port: number, size: number, value: number): void;
}

/** What became of an emulated instruction (Xen's X86EMUL_OKAY / X86EMUL_EXCEPTION, or an exit it needs). */
export type MmioOutcome =
  | { kind: 'done' }
  | { kind: 'exception'; vector: number; type: number; errorCode?: number; cr2: bigint }
  | { kind: 'exit'; reason: number; qualification: bigint; gpa: bigint; gla: bigint };

/** The CPU's imports: the device model behind MMIO emulation, set only while emulateMmio runs. */
interface HostImports { mmio: MmioAccess | undefined }

/** The general-purpose registers by encoding (assembly/shared/regs.ts): index i is register i. */
export { GPR_NAMES };
export type GprName = string;

export class VmxError extends Error {}

const GPR_INDEX = new Map<string, number>(GPR_NAMES.map((n, i) => [n, i]));
function gprIndex(name: GprName): number {
  const i = GPR_INDEX.get(name);
  if (i === undefined) throw new RangeError(`unknown general-purpose register "${name}"`);
  return i;
}

/** vmfieldAccess's answer (assembly/index.ts): slot address, width, read-only. */
const ACCESS_ADDR = 0xffffff, ACCESS_RO = 1 << 26;
/** Encodings the host caches access for: bits 31:15 are reserved (SDM Vol. 3C, Appendix B.1). */
const ENCODINGS = 0x8000;

/** vmresume's return value when a debugger breakpoint stopped the guest (not a VMX exit reason). */
export { DEBUG_STOP } from "../assembly/shared/limits.js";

let compiled: WebAssembly.Module | undefined;
function cpuModule(): WebAssembly.Module {
  if (compiled) return compiled;
  const path = process.env.VMFUNC_VMI_CPU_WASM ?? join(packageRoot(), 'build', 'cpu.wasm');
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm install" (or "npm run build:wasm") first`);
  // V8 cannot replace a running Wasm frame with optimised code (no OSR), and a
  // VMRESUME can run for seconds inside one call (src/jit/tiers.ts).
  optimiseFirstCalls();
  compiled = new WebAssembly.Module(readFileSync(path));
  return compiled;
}

/** jit: run hot code compiled to Wasm (src/jit/, assembly/jit/); default Machine.defaultJit. */
export interface MachineOptions { memMiB?: number; jit?: boolean }

export class Machine {
  readonly memBytes: number;
  private readonly cpu: CpuExports;
  private readonly base: number;
  private readonly host: HostImports;
  private readonly jitHost: JitHost;
  /** Whether machines created without a `jit` option run compiled code (the CLI's --jit; on unless
   *  VMFUNC_VMI_JIT=off, which the test runs' interpreter project sets). */
  static defaultJit = process.env.VMFUNC_VMI_JIT !== 'off';
  /** Summaries report the JIT's statistics (the CLI's --jit; not VMFUNC_VMI_JIT, which test runs set
   *  to run everything compiled with the output unchanged). */
  static reportJit = false;
  /** The threshold new machines start with (0: the CPU's default); VMFUNC_VMI_JIT_HOT for test runs. */
  static defaultJitThreshold = Number(process.env.VMFUNC_VMI_JIT_HOT ?? 0);
  /**
   * The CPU's VMCS storage and GPR save area, read and written in place: a VM exit's handler then
   * crosses into Wasm only to run the guest. Views of the CPU's own region below machine memory,
   * which never moves (Wasm memory only grows).
   */
  private readonly u32: Uint32Array;
  private readonly u64: BigUint64Array;
  private readonly regs: BigUint64Array;
  private readonly regs32: Uint32Array;
  /** vmfieldAccess by encoding, asked once: 0 not yet asked, -1 no such field. */
  private readonly access = new Int32Array(ENCODINGS);

  private constructor(cpu: CpuExports, memBytes: number, host: HostImports, jitHost: JitHost) {
    this.cpu = cpu;
    this.jitHost = jitHost;
    this.host = host;
    this.memBytes = memBytes;
    this.base = cpu.machineBase();
    const buf = cpu.memory.buffer;
    this.u32 = new Uint32Array(buf, 0, this.base >>> 2);
    this.u64 = new BigUint64Array(buf, 0, this.base >>> 3);
    this.regs = new BigUint64Array(buf, cpu.regsBase(), GPR_NAMES.length);
    this.regs32 = new Uint32Array(buf, cpu.regsBase(), 2 * GPR_NAMES.length);
  }

  static async create(opts: MachineOptions = {}): Promise<Machine> { return Machine.createSync(opts); }

  static createSync(opts: MachineOptions = {}): Machine {
    const memMiB = opts.memMiB ?? 64;
    if (!Number.isInteger(memMiB) || memMiB < 1 || memMiB > 3072) {
      throw new RangeError(`memory size ${memMiB} MiB is out of range (1..3072)`);
    }
    const host: HostImports = { mmio: undefined };
    const jitHost = new JitHost();
    const instance = new WebAssembly.Instance(cpuModule(), {
      env: {
        abort(_msg: number, _file: number, line: number, col: number) {
          throw new Error(`CPU core aborted at ${line}:${col}`);
        },
        mmio_claims: (gpa: bigint) => (host.mmio?.claims(BigInt.asUintN(64, gpa)) ? 1 : 0),
        mmio_read: (gpa: bigint, size: number) => host.mmio!.read(BigInt.asUintN(64, gpa), size),
        mmio_write: (gpa: bigint, size: number, value: bigint) => host.mmio!.write(BigInt.asUintN(64, gpa), size, BigInt.asUintN(64, value)),
        io_read: (port: number, size: number) => host.mmio?.portRead?.(port, size) ?? -1,
        io_write: (port: number, size: number, value: number) => host.mmio?.portWrite?.(port, size, value >>> 0),
        ...jitHost.env,
      },
    });
    const cpu = instance.exports as unknown as CpuExports;
    const bytes = memMiB * 1024 * 1024;
    if (!cpu.init(BigInt(bytes))) throw new RangeError(`cannot allocate ${memMiB} MiB of machine memory`);
    jitHost.bind(cpu as unknown as JitCpuExports);
    const m = new Machine(cpu, bytes, host, jitHost);
    m.jit = opts.jit ?? Machine.defaultJit;
    if (Machine.defaultJitThreshold > 0) m.jitThreshold = Machine.defaultJitThreshold;
    return m;
  }

  /**
   * The CPU's memory as shared Wasm memory: other threads (Dom0's VMI workers)
   * can map machine memory while the guest runs. Machine address A is byte base + A.
   */
  get shared(): { buffer: SharedArrayBuffer; base: number; size: number } {
    return { buffer: this.cpu.memory.buffer as unknown as SharedArrayBuffer, base: this.base, size: this.memBytes };
  }

  /** Whether hot guest code runs compiled (the JIT); switchable between runs. */
  get jit(): boolean { return this.jitOn; }
  set jit(on: boolean) { this.jitOn = on; this.cpu.setJit(on ? 1 : 0, 0); }
  /** Instructions a block's entries retire before its region is compiled (default 1,000,000,
   *  assembly/jit/cache.ts; tests use 1 to compile every block at its first entry). */
  set jitThreshold(n: number) { this.cpu.setJit(this.jitOn ? 1 : 0, Math.max(1, n >>> 0)); }
  private jitOn = false;
  /** Compiled regions the function table holds before every one is dropped (default 4000). */
  set jitMaxRegions(n: number) { this.jitHost.maxRegions = Math.max(1, n >>> 0); }
  /** The JIT's statistics: regions compiled, refused, flushes, host compile time. */
  get jitStats(): JitStats { return this.jitHost.stats(); }

  /** A view of all machine memory (host-physical address 0 at index 0). */
  get mem(): Uint8Array { return new Uint8Array(this.cpu.memory.buffer, this.base, this.memBytes); }

  private check(addr: number, len: number): void {
    if (!Number.isInteger(addr) || addr < 0 || len < 0 || addr + len > this.memBytes) {
      throw new RangeError(`machine address range 0x${addr.toString(16)}+${len} is outside ${this.memBytes} bytes of memory`);
    }
  }
  readPhys(addr: number, len: number): Uint8Array { this.check(addr, len); return this.mem.slice(addr, addr + len); }
  /** The CPU drops the decoded instructions on the frames written, and its TLB, as after DMA. */
  private wrote(addr: number, len: number): void { this.cpu.invalidateCodeRange(BigInt(addr), BigInt(len)); }
  /** Writes machine memory; the CPU drops decoded instructions and TLB entries, as after DMA. */
  writePhys(addr: number, data: Uint8Array): void {
    this.check(addr, data.length); this.mem.set(data, addr); this.wrote(addr, data.length);
  }
  fillPhys(addr: number, len: number, value = 0): void { this.check(addr, len); this.mem.fill(value, addr, addr + len); this.wrote(addr, len); }
  read64(addr: number): bigint { this.check(addr, 8); return new DataView(this.cpu.memory.buffer, this.base + addr, 8).getBigUint64(0, true); }
  write64(addr: number, v: bigint): void {
    this.check(addr, 8); new DataView(this.cpu.memory.buffer, this.base + addr, 8).setBigUint64(0, BigInt.asUintN(64, v), true);
    this.wrote(addr, 8);
  }
  read32(addr: number): number { this.check(addr, 4); return new DataView(this.cpu.memory.buffer, this.base + addr, 4).getUint32(0, true); }
  write32(addr: number, v: number): void {
    this.check(addr, 4); new DataView(this.cpu.memory.buffer, this.base + addr, 4).setUint32(0, v >>> 0, true);
    this.wrote(addr, 4);
  }
  /** Writes without telling the CPU (only for memory that never holds code or page tables). */
  writePhysData(addr: number, data: Uint8Array): void { this.check(addr, data.length); this.mem.set(data, addr); }
  fnv1a64(addr: number, len: number): bigint { this.check(addr, len); return BigInt.asUintN(64, this.cpu.fnv1a64(BigInt(addr), len)); }

  /** vmfieldAccess(enc), cached; -1 when the field does not exist or `enc` is no cacheable encoding. */
  private fieldAccess(enc: number): number {
    if (!(enc >= 0 && enc < ENCODINGS && Number.isInteger(enc))) return -1;
    let a = this.access[enc];
    if (a === 0) this.access[enc] = a = this.cpu.vmfieldAccess(enc) || -1;
    return a;
  }

  /** VMREAD: a 64-bit field's high access (bit 0 of the encoding) reads bits 63:32. */
  vmread(field: string | number): bigint {
    const enc = typeof field === 'number' ? field : fieldEncoding(field);
    const a = this.fieldAccess(enc);
    if (a < 0) return this.vmreadSlow(enc);
    const i = (a & ACCESS_ADDR) >>> 3;
    return enc & 1 ? BigInt(this.u32[2 * i + 1]) : this.u64[i];
  }
  /** VMREAD of a field's low 32 bits (all of a 16- or 32-bit field) as a number: no BigInt on the exit path. */
  vmread32(enc: number): number {
    const a = this.fieldAccess(enc);
    if (a < 0) return Number(this.vmreadSlow(enc) & 0xffffffffn);
    return this.u32[((a & ACCESS_ADDR) >>> 2) + (enc & 1)];
  }
  private vmreadSlow(enc: number): bigint {
    if (!this.cpu.vmfieldExists(enc)) throw new VmxError(`VMREAD: unsupported VMCS component 0x${enc.toString(16)}`);
    return BigInt.asUintN(64, this.cpu.vmread(enc));
  }
  /**
   * VMWRITE (SDM Vol. 3C 31.3, Appendix B): a 16- or 32-bit field keeps the value's low bits, a high
   * access writes bits 63:32 of its 64-bit field. Unsupported and read-only fields go to the CPU,
   * which answers the VM-instruction error.
   */
  vmwrite(field: string | number, value: bigint | number): void {
    const enc = typeof field === 'number' ? field : fieldEncoding(field);
    const a = this.fieldAccess(enc);
    if (a < 0 || a & ACCESS_RO) { this.vmwriteSlow(enc, value); return; }
    const i = (a & ACCESS_ADDR) >>> 3, width = (a >>> 24) & 3, u32 = this.u32;
    if (typeof value === 'number' && value >= 0 && value <= 0xffffffff && Number.isInteger(value)) {
      if (enc & 1) u32[2 * i + 1] = value;
      else { u32[2 * i] = width === 0 ? value & 0xffff : value; u32[2 * i + 1] = 0; }
      return;
    }
    const v = BigInt.asUintN(64, BigInt(value));
    if (enc & 1) u32[2 * i + 1] = Number(v & 0xffffffffn);
    else this.u64[i] = width === 0 ? v & 0xffffn : width === 2 ? v & 0xffffffffn : v;
  }
  private vmwriteSlow(enc: number, value: bigint | number): void {
    const err = this.cpu.vmwrite(enc, BigInt.asUintN(64, BigInt(value)));
    if (err === 12) throw new VmxError(`VMWRITE: unsupported VMCS component 0x${enc.toString(16)} (VM-instruction error 12)`);
    if (err === 13) throw new VmxError(`VMWRITE: ${fieldName(enc) ?? '0x' + enc.toString(16)} is read-only (VM-instruction error 13)`);
  }
  vmfieldExists(enc: number): boolean { return this.cpu.vmfieldExists(enc) !== 0; }

  /** Runs the guest until a VM exit; returns the exit reason (bit 31: VM-entry failure). */
  vmresume(budget: bigint | number = 0xffffffffffffn): number {
    const reason = this.cpu.vmresume(BigInt(budget)) >>> 0;
    if (!tiered) startTiering();
    return reason;
  }

  gpr(r: GprName | number): bigint {
    const i = typeof r === 'number' ? r : gprIndex(r);
    return this.regs[i & 15];
  }
  /** A register's low 32 bits as a number (EAX of RAX). */
  gpr32(i: number): number { return this.regs32[2 * (i & 15)]; }
  /** Writes a 32-bit result zero-extended into the 64-bit register, as setGpr(i, v >>> 0): no BigInt. */
  setGpr32(i: number, v: number): void { const k = 2 * (i & 15); this.regs32[k] = v; this.regs32[k + 1] = 0; }
  /** The save area stores the value modulo 2^64, as BigInt.asUintN(64, v). */
  setGpr(r: GprName | number, v: bigint | number): void {
    const i = typeof r === 'number' ? r : gprIndex(r);
    this.regs[i & 15] = typeof v === 'bigint' ? v : BigInt(v);
  }
  get cr2(): bigint { return BigInt.asUintN(64, this.cpu.getCr2()); }
  set cr2(v: bigint) { this.cpu.setCr2(v); }
  get cr8(): bigint { return BigInt.asUintN(64, this.cpu.getCr8()); }
  /** The x87/SSE/MXCSR state as a 512-byte FXSAVE image (64-bit format; assembly/shared/fxsave.ts offsets). */
  fxsave(): Uint8Array {
    const at = this.cpu.fxStateSave();
    return new Uint8Array(this.cpu.memory.buffer, at, FX_IMAGE_BYTES).slice();
  }
  /** Loads the x87/SSE/MXCSR state from a 512-byte FXSAVE image (the caller keeps MXCSR's reserved bits clear). */
  fxrstor(image: Uint8Array): void {
    if (image.length !== FX_IMAGE_BYTES) throw new RangeError(`an FXSAVE image is ${FX_IMAGE_BYTES} bytes, not ${image.length}`);
    new Uint8Array(this.cpu.memory.buffer, this.cpu.scratchBase(), FX_IMAGE_BYTES).set(image);
    this.cpu.fxStateLoad();
  }
  rdmsr(msr: number): bigint { return BigInt.asUintN(64, this.cpu.hostRdmsr(msr >>> 0)); }
  wrmsr(msr: number, v: bigint): boolean { return this.cpu.hostWrmsr(msr >>> 0, BigInt.asUintN(64, v)) !== 0; }

  get insnsRetired(): bigint { return BigInt.asUintN(64, this.cpu.insnsRetired()); }
  /** Decoded-instruction cache misses so far. */
  get decodes(): bigint { return BigInt.asUintN(64, this.cpu.decodes()); }
  get vcycles(): bigint { return BigInt.asUintN(64, this.cpu.vcycles()); }
  addVcycles(n: bigint | number): void { this.cpu.addVcycles(BigInt(n)); }
  setCost(op: number, cycles: number): void { this.cpu.setCost(op, cycles); }
  postExternalInterrupt(vector: number): void { this.cpu.postExternalInterrupt(vector & 0xff); }
  invalidateCode(): void { this.cpu.invalidateCode(); }
  flushTlb(): void { this.cpu.flushTlb(); }
  /**
   * Walks EPT under `eptp` for an access (0 read, 1 write, 2 fetch) without side effects:
   * the host-physical address, or the exit it would cause (48 violation / 49 misconfiguration) with its qualification.
   */
  eptWalk(eptp: bigint, gpa: bigint, kind: 0 | 1 | 2): { hpa: bigint } | { exit: 48 | 49; qualification: bigint } {
    const r = this.cpu.eptProbe(BigInt.asUintN(64, eptp), BigInt.asUintN(64, gpa), kind);
    if (r >= 0n) return { hpa: r };
    return { exit: Number(-r) as 48 | 49, qualification: BigInt.asUintN(64, this.cpu.eptProbeQual()) };
  }
  /** INVEPT (all contexts): call after editing EPT entries or the EPTP list. */
  invept(): void { this.cpu.invept(); }

  /**
   * Debugger breakpoints on guest linear addresses (up to 64): vmresume returns
   * DEBUG_STOP with GUEST_RIP at the address, before the instruction executes.
   */
  setBreakpoints(addrs: readonly bigint[]): void {
    if (addrs.length > MAX_BREAKPOINTS) throw new RangeError(`at most ${MAX_BREAKPOINTS} breakpoints`);
    const base = this.cpu.debugBreakpointTable();
    const view = new DataView(this.cpu.memory.buffer, base, MAX_BREAKPOINTS * 8);
    addrs.forEach((a, i) => view.setBigUint64(i * 8, BigInt.asUintN(64, a), true));
    this.cpu.debugSetBreakpoints(addrs.length);
  }
  /** Stop (DEBUG_STOP) before any VMFUNC executes. */
  set breakOnVmfunc(on: boolean) { this.cpu.debugBreakOnVmfunc(on ? 1 : 0); }
  /** Let the next vmresume run the instruction at a breakpoint instead of stopping again. */
  resumePastBreakpoint(): void { this.cpu.debugSkipOnce(); }

  /**
   * Completes the instruction at GUEST_RIP once, its data accesses to addresses `dev` claims (and
   * the active EPT view refuses) served by `dev` -- what Xen's handle_mmio does with x86_emulate.
   * Guest state goes from the VMCS and back to it; the exit-information fields are kept.
   */
  emulateMmio(dev: MmioAccess): MmioOutcome {
    const cpu = this.cpu;
    this.host.mmio = dev;
    let status: number;
    try { status = cpu.mmioEmulate(); } finally { this.host.mmio = undefined; }
    if (status === MMIO_DONE) return { kind: 'done' };
    if (status === MMIO_EXCEPTION) {
      const info = cpu.mmioEventInfo() >>> 0;
      return { kind: 'exception', vector: info & 0xff, type: (info >> 8) & 7, cr2: BigInt.asUintN(64, cpu.mmioEventCr2()),
        ...(info & INTR_INFO_DELIVER_CODE_MASK ? { errorCode: cpu.mmioEventErrorCode() >>> 0 } : {}) };
    }
    return { kind: 'exit', reason: cpu.mmioExitReason() >>> 0, qualification: BigInt.asUintN(64, cpu.mmioExitQualification()),
      gpa: BigInt.asUintN(64, cpu.mmioExitGpa()), gla: BigInt.asUintN(64, cpu.mmioExitGla()) };
  }

  /** Guest-physical address of a linear address under the current guest CR3, or undefined. */
  translate(la: bigint): bigint | undefined {
    const r = this.cpu.translateLinear(BigInt.asUintN(64, la));
    return r < 0n ? undefined : r;
  }

  /** Length of the first instruction in `bytes` as our decoder sees it, or -1 (#UD / too long). */
  decodeLength(bytes: Uint8Array): number {
    const buf = new Uint8Array(this.cpu.memory.buffer, this.cpu.scratchBase(), 16);
    buf.fill(0);
    buf.set(bytes.subarray(0, 16));
    const n = this.cpu.decodeLength();
    return n > bytes.length ? -1 : n;
  }

  /** How many instructions of `bytes` (at most 256) the run loop would decode into one block. */
  decodeBlock(bytes: Uint8Array): number {
    const buf = new Uint8Array(this.cpu.memory.buffer, this.cpu.scratchBase(), 256 + 16);
    buf.fill(0);
    buf.set(bytes.subarray(0, 256));
    return this.cpu.decodeBlock();
  }
}
