// `vmfunc-vmi exec`: runs raw code snippets in a fixed user-mode environment
// so that any harness can run the same case natively and compare.
//   code  at 0x10000000, 64 KiB, user read/execute
//   data  at 0x20000000, 64 KiB, user read/write/no-execute, byte i = (i*131+7) & 255
//   CPL 3 (CS 0x33, SS 0x2b), nothing else user-accessible; Linux's GDT (LINUX_GDT below) at its
//   cpu_entry_area address, supervisor read-only. Exceptions end the run (exception bitmap = all ones).
//   CR0.NE and MP set, CR0.TS and EM clear, CR4.OSFXSR and OSXMMEXCPT set: SSE and the x87 usable,
//   unmasked exceptions fault as #XM (19) and #MF (16).
// The SIMD/FPU state (optional in a case, always in a result): "xmm" XMM0-15 as 128-bit hex numbers
// (missing = 0; results print all 16 as 0x + 32 digits), "mxcsr" (default 0x1f80), "fcw" (default 0x37f,
// the x87 as after FNINIT + FLDCW: stack empty, FSW 0); results add "fpu" {fcw, fsw, ftw (the abridged
// tag byte FXSAVE stores), st0..st7 (ST(i) as 80-bit values, 0x + 20 digits, as FXSAVE stores them)}.
import { Machine, GPR_NAMES, GprName } from './machine.js';
import { nativeCpuid } from './cpuid.js';
import {
  exitReasonName, EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_CPUID, EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED,
} from './vmcs.js';
import { X86_EXC_UD, X86_EXC_PF } from '../assembly/shared/x86-defns.js';
import { EptTable, EPT_RWX } from './xen/ept.js';
import { FrameAllocator } from './xen/frames.js';
import { hex } from './util/format.js';
import {
  FX_FCW, FX_FSW, FX_FTW, FX_MXCSR, FX_ST, FX_XMM, FX_IMAGE_BYTES, FCW_DEFAULT, MXCSR_DEFAULT, MXCSR_MASK,
} from '../assembly/shared/fxsave.js';

export const CODE_VA = 0x10000000;
export const DATA_VA = 0x20000000;
export const WINDOW = 0x10000;
const DEFAULT_MAX_INSNS = 10_000_000;
const DEFAULT_FP: ExecFpState = { xmm: new Array<bigint>(16).fill(0n), mxcsr: MXCSR_DEFAULT, fcw: FCW_DEFAULT };

// Machine-physical layout of the environment.
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT_CODE = 0x4000, PT_DATA = 0x5000;
// The GDT, as Linux lays it out (arch/x86/include/asm/segment.h GDT_ENTRY_*, 16 entries) and where it
// maps it for CPU 0 (the cpu_entry_area's GDT page, 0xfffffe0000001000 with 4-level paging), supervisor
// read-only: a far transfer (LRETQ to __USER_CS 0x33, ...) checks the same descriptors as on the host.
const PDPT_HI = 0x6000, PD_HI = 0x7000, PT_HI = 0x8000, GDT_PA = 0x9000;
export const GDT_VA = 0xfffffe0000001000n;
const GDT_LIMIT = 16 * 8 - 1;
export const LINUX_GDT: readonly bigint[] = [
  0n,                    // 0x00 null
  0x00cf9b000000ffffn,   // 0x08 __KERNEL32_CS
  0x00af9b000000ffffn,   // 0x10 __KERNEL_CS
  0x00cf93000000ffffn,   // 0x18 __KERNEL_DS
  0x00cffb000000ffffn,   // 0x23 __USER32_CS (compatibility mode)
  0x00cff3000000ffffn,   // 0x2b __USER_DS
  0x00affb000000ffffn,   // 0x33 __USER_CS
  0n,                    // 0x38 unused
  0x00008b0000000067n, 0n, // 0x40 TSS (16 bytes, busy, base 0 as TR says)
];
const CODE_PA = 0x100000, DATA_PA = 0x200000;
const MEM_MIB = 4;

export interface ExecCase {
  code: string;
  regs?: Partial<Record<GprName, string | number>>;
  rflags?: string | number;
  max_insns?: number;
  /** XMM0-XMM15 by name ("xmm0".."xmm15"), 128-bit numbers; missing registers are 0. */
  xmm?: Partial<Record<string, string | number>>;
  mxcsr?: string | number;
  fcw?: string | number;
}

/** The x87 state of a result, as FXSAVE stores it. */
export interface ExecFpu {
  fcw: string; fsw: string; ftw: string;
  st0: string; st1: string; st2: string; st3: string; st4: string; st5: string; st6: string; st7: string;
}

/** The SIMD/FPU input of a case after validation. */
export interface ExecFpState { xmm: bigint[]; mxcsr: number; fcw: number }
export const XMM_NAMES: readonly string[] = Array.from({ length: 16 }, (_, i) => `xmm${i}`);

export interface ExecResult {
  stop: 'end' | 'exception' | 'limit' | 'exit';
  rip: string;
  regs: Record<GprName, string>;
  rflags: string;
  insns: number;
  data_fnv1a64: string;
  vector?: number;
  error_code?: string;
  cr2?: string;
  exit_reason?: string;
  xmm: Record<string, string>;
  mxcsr: string;
  fpu: ExecFpu;
}

export class ExecInputError extends Error {}

function parseU64(v: unknown, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new ExecInputError(`${what}: ${v} is not a non-negative integer`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,16}|[0-9]{1,20})$/.test(v)) {
    const b = BigInt(v);
    if (b > 0xffffffffffffffffn) throw new ExecInputError(`${what}: ${v} does not fit in 64 bits`);
    return b;
  }
  throw new ExecInputError(`${what}: expected a 64-bit number (e.g. "0x1f"), got ${JSON.stringify(v)}`);
}

function parseU128(v: unknown, what: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new ExecInputError(`${what}: ${v} is not a non-negative integer`);
    return BigInt(v);
  }
  if (typeof v === 'string' && /^(0x[0-9a-fA-F]{1,32}|[0-9]{1,39})$/.test(v)) {
    const b = BigInt(v);
    if (b >> 128n) throw new ExecInputError(`${what}: ${v} does not fit in 128 bits`);
    return b;
  }
  throw new ExecInputError(`${what}: expected a 128-bit number (e.g. "0x3ff00000000000000000000000000000"), got ${JSON.stringify(v)}`);
}

/** Validates the optional "xmm", "mxcsr" and "fcw" fields of a case. */
export function parseFpState(o: Record<string, unknown>): ExecFpState {
  const xmm = new Array<bigint>(16).fill(0n);
  if (o.xmm !== undefined) {
    if (typeof o.xmm !== 'object' || o.xmm === null || Array.isArray(o.xmm)) throw new ExecInputError('"xmm" must be an object');
    for (const [k, v] of Object.entries(o.xmm as Record<string, unknown>)) {
      const i = XMM_NAMES.indexOf(k);
      if (i < 0) throw new ExecInputError(`"xmm": unknown register "${k}" (xmm0..xmm15)`);
      xmm[i] = parseU128(v, `xmm.${k}`);
    }
  }
  let mxcsr = MXCSR_DEFAULT;
  if (o.mxcsr !== undefined) {
    const v = parseU64(o.mxcsr, 'mxcsr');
    if (v & ~BigInt(MXCSR_MASK)) throw new ExecInputError(`mxcsr: ${hex(v)} sets reserved bits (supported: ${hex(MXCSR_MASK)})`);
    mxcsr = Number(v);
  }
  let fcw = FCW_DEFAULT;
  if (o.fcw !== undefined) {
    const v = parseU64(o.fcw, 'fcw');
    if (v > 0xffffn) throw new ExecInputError(`fcw: ${hex(v)} does not fit in 16 bits`);
    fcw = Number(v);
  }
  return { xmm, mxcsr, fcw };
}

/** The FXSAVE image a case starts from: the x87 as after FNINIT + FLDCW fcw, MXCSR and XMM0-15 given. */
export function fpImage(fp: ExecFpState): Uint8Array {
  const img = new Uint8Array(FX_IMAGE_BYTES);
  const dv = new DataView(img.buffer);
  dv.setUint16(FX_FCW, fp.fcw, true);
  dv.setUint32(FX_MXCSR, fp.mxcsr, true);
  for (let i = 0; i < 16; i++) {
    dv.setBigUint64(FX_XMM + 16 * i, BigInt.asUintN(64, fp.xmm[i]), true);
    dv.setBigUint64(FX_XMM + 16 * i + 8, fp.xmm[i] >> 64n, true);
  }
  return img;
}

/** Little-endian bytes [at, at+n) as 0x + exactly 2n hex digits. */
function leHex(img: Uint8Array, at: number, n: number): string {
  let s = '0x';
  for (let i = at + n - 1; i >= at; i--) s += img[i].toString(16).padStart(2, '0');
  return s;
}

/** The "xmm", "mxcsr" and "fpu" fields of a result, from an FXSAVE image. */
export function fpResult(img: Uint8Array): Pick<ExecResult, 'xmm' | 'mxcsr' | 'fpu'> {
  const dv = new DataView(img.buffer, img.byteOffset, img.byteLength);
  const xmm: Record<string, string> = {};
  for (let i = 0; i < 16; i++) xmm[XMM_NAMES[i]] = leHex(img, FX_XMM + 16 * i, 16);
  const fpu = { fcw: hex(dv.getUint16(FX_FCW, true)), fsw: hex(dv.getUint16(FX_FSW, true)), ftw: hex(img[FX_FTW]) } as ExecFpu;
  for (let i = 0; i < 8; i++) (fpu as unknown as Record<string, string>)[`st${i}`] = leHex(img, FX_ST + 16 * i, 10);
  return { xmm, mxcsr: hex(dv.getUint32(FX_MXCSR, true)), fpu };
}

export function dataPattern(): Uint8Array {
  const d = new Uint8Array(WINDOW);
  for (let i = 0; i < WINDOW; i++) d[i] = (i * 131 + 7) & 255;
  return d;
}

export interface ExecOptions {
  /** Run under one identity EPT view (guest-physical = host-physical), as a hypervisor would. */
  ept?: boolean;
}

export class ExecEnv {
  private readonly pattern = dataPattern();
  private eptp = 0n;
  private constructor(readonly machine: Machine, opts: ExecOptions) {
    if (opts.ept) {
      // EPT tables live above the environment's 4 MiB of guest-physical memory.
      const frames = new FrameAllocator(machine, (MEM_MIB << 20) / 4096);
      const view = new EptTable(machine, frames);
      view.map(0n, 0n, BigInt(MEM_MIB) << 20n, EPT_RWX, '2m');
      this.eptp = view.eptp();
    }
  }

  static async create(opts: ExecOptions = {}): Promise<ExecEnv> { return ExecEnv.createSync(opts); }
  static createSync(opts: ExecOptions = {}): ExecEnv {
    return new ExecEnv(Machine.createSync({ memMiB: opts.ept ? MEM_MIB + 1 : MEM_MIB }), opts);
  }

  /** Validates and normalises one case object. */
  static parseCase(obj: unknown): { code: Uint8Array; regs: bigint[]; rflags: bigint; maxInsns: number; fp: ExecFpState } {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ExecInputError('expected a JSON object');
    const o = obj as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['code', 'regs', 'rflags', 'max_insns', 'xmm', 'mxcsr', 'fcw'].includes(k)) throw new ExecInputError(`unknown field "${k}"`);
    }
    // No regular expression over the whole field: a repeated group backtracks per pair and
    // overflows the stack on megabytes of hex.
    if (typeof o.code !== 'string' || o.code.length % 2 !== 0 || /[^0-9a-fA-F]/.test(o.code)) {
      throw new ExecInputError('"code" must be a string of hex byte pairs');
    }
    const code = Uint8Array.from(Buffer.from(o.code, 'hex'));
    if (code.length > WINDOW - 2) throw new ExecInputError(`"code" is ${code.length} bytes; at most ${WINDOW - 2} fit`);
    const regs = new Array<bigint>(16).fill(0n);
    if (o.regs !== undefined) {
      if (typeof o.regs !== 'object' || o.regs === null || Array.isArray(o.regs)) throw new ExecInputError('"regs" must be an object');
      for (const [k, v] of Object.entries(o.regs as Record<string, unknown>)) {
        const i = GPR_NAMES.indexOf(k as GprName);
        if (i < 0) throw new ExecInputError(`"regs": unknown register "${k}"`);
        regs[i] = parseU64(v, `regs.${k}`);
      }
    }
    const rflags = o.rflags === undefined ? 0x202n : parseU64(o.rflags, 'rflags');
    let maxInsns = DEFAULT_MAX_INSNS;
    if (o.max_insns !== undefined) {
      if (typeof o.max_insns !== 'number' || !Number.isSafeInteger(o.max_insns) || o.max_insns < 0) {
        throw new ExecInputError('"max_insns" must be a non-negative integer');
      }
      maxInsns = o.max_insns;
    }
    return { code, regs, rflags, maxInsns, fp: parseFpState(o) };
  }

  run(c: ExecCase): ExecResult {
    const p = ExecEnv.parseCase(c);
    return this.runBinary(p.code, p.regs, p.rflags, p.maxInsns, p.fp);
  }

  /** One JSONL line in, one result (or error) object out. */
  runLine(line: string, lineNo: number): ExecResult | { error: string } {
    let obj: unknown;
    try { obj = JSON.parse(line); } catch (e) { return { error: `line ${lineNo}: invalid JSON: ${(e as Error).message}` }; }
    try { return this.run(obj as ExecCase); } catch (e) {
      if (e instanceof ExecInputError) return { error: `line ${lineNo}: ${e.message}` };
      throw e;
    }
  }

  private setup(code: Uint8Array): void {
    const m = this.machine;
    const mem = m.mem;
    mem.fill(0, 0, GDT_PA + 0x1000);
    const dv = new DataView(mem.buffer, mem.byteOffset, mem.byteLength);
    const put = (a: number, v: bigint) => dv.setBigUint64(a, v, true);
    // PML4[0] -> PDPT, PDPT[0] -> PD, PD[128] (0x10000000) -> PT_CODE, PD[256] (0x20000000) -> PT_DATA.
    put(PML4, BigInt(PDPT) | 7n);
    put(PDPT, BigInt(PD) | 7n);
    put(PD + 128 * 8, BigInt(PT_CODE) | 7n);
    put(PD + 256 * 8, BigInt(PT_DATA) | 7n);
    for (let i = 0; i < 16; i++) {
      put(PT_CODE + i * 8, BigInt(CODE_PA + i * 0x1000) | 5n);                         // P, U, read-only, executable
      put(PT_DATA + i * 8, BigInt(DATA_PA + i * 0x1000) | 7n | (1n << 63n));           // P, RW, U, NX
    }
    // PML4[508] -> PDPT_HI[0] -> PD_HI[0] -> PT_HI[1] = the GDT page (P, read-only, supervisor, NX).
    const hi = (shift: bigint) => Number((GDT_VA >> shift) & 511n) * 8;
    put(PML4 + hi(39n), BigInt(PDPT_HI) | 3n);
    put(PDPT_HI + hi(30n), BigInt(PD_HI) | 3n);
    put(PD_HI + hi(21n), BigInt(PT_HI) | 3n);
    put(PT_HI + hi(12n), BigInt(GDT_PA) | 1n | (1n << 63n));
    LINUX_GDT.forEach((d, i) => put(GDT_PA + i * 8, d));
    mem.fill(0, CODE_PA, CODE_PA + WINDOW);
    mem.set(code, CODE_PA);
    mem[CODE_PA + code.length] = 0x0f; mem[CODE_PA + code.length + 1] = 0x0b; // UD2 sentinel at the end
    mem.set(this.pattern, DATA_PA);
    m.invalidateCode();
  }

  private loadState(regs: bigint[], rflags: bigint): void {
    const m = this.machine;
    for (let i = 0; i < 16; i++) m.setGpr(i, regs[i]);
    const w = (f: string, v: bigint | number) => m.vmwrite(f, v);
    w('GUEST_CR0', 0x80050033n); // PG, WP, NE, ET, MP, PE (AM clear: no alignment checks; TS, EM clear)
    w('GUEST_CR3', PML4);
    w('GUEST_CR4', 0x620);       // PAE, OSFXSR, OSXMMEXCPT
    w('GUEST_IA32_EFER', 0xd01); // SCE, LME, LMA, NXE
    w('GUEST_CS_SELECTOR', 0x33); w('GUEST_CS_AR_BYTES', 0xa0fb); w('GUEST_CS_LIMIT', 0xffffffff); w('GUEST_CS_BASE', 0);
    w('GUEST_SS_SELECTOR', 0x2b); w('GUEST_SS_AR_BYTES', 0xc0f3); w('GUEST_SS_LIMIT', 0xffffffff); w('GUEST_SS_BASE', 0);
    for (const s of ['DS', 'ES', 'FS', 'GS', 'LDTR']) {
      w(`GUEST_${s}_SELECTOR`, 0); w(`GUEST_${s}_AR_BYTES`, 0x10000); w(`GUEST_${s}_BASE`, 0); w(`GUEST_${s}_LIMIT`, 0);
    }
    // TR's limit 0: no I/O permission bit map can be read (SDM Vol. 1 19.5.2), so IN/OUT at CPL 3
    // are #GP(0) without a TSS in memory, as for a Linux process without ioperm().
    w('GUEST_TR_SELECTOR', 0x40); w('GUEST_TR_AR_BYTES', 0x8b); w('GUEST_TR_BASE', 0); w('GUEST_TR_LIMIT', 0);
    w('GUEST_GDTR_BASE', GDT_VA); w('GUEST_GDTR_LIMIT', GDT_LIMIT); w('GUEST_IDTR_BASE', 0); w('GUEST_IDTR_LIMIT', 0);
    w('GUEST_RSP', regs[4]);
    w('GUEST_RIP', CODE_VA);
    // Only the status flags, TF-free: DF, and the arithmetic flags come from the case.
    w('GUEST_RFLAGS', (rflags & 0xcd5n) | 0x202n);
    w('GUEST_INTERRUPTIBILITY_INFO', 0);
    w('GUEST_ACTIVITY_STATE', 0);
    w('PIN_BASED_VM_EXEC_CONTROL', 0);
    w('CPU_BASED_VM_EXEC_CONTROL', this.eptp ? 0x80000000 : 0);
    w('SECONDARY_VM_EXEC_CONTROL', this.eptp ? 1 << 1 : 0);
    if (this.eptp) w('EPT_POINTER', this.eptp);
    w('EXCEPTION_BITMAP', 0xffffffff);
    w('PAGE_FAULT_ERROR_CODE_MASK', 0); w('PAGE_FAULT_ERROR_CODE_MATCH', 0);
    w('VM_ENTRY_CONTROLS', 1 << 9);
    w('VM_ENTRY_INTR_INFO_FIELD', 0);
  }

  runBinary(code: Uint8Array, regs: bigint[], rflags = 0x202n, maxInsns = DEFAULT_MAX_INSNS, fp: ExecFpState = DEFAULT_FP): ExecResult {
    const m = this.machine;
    this.setup(code);
    this.loadState(regs, rflags);
    m.fxrstor(fpImage(fp));
    const end = BigInt(CODE_VA + code.length);
    const start = m.insnsRetired;
    let stop: ExecResult['stop'] = 'limit';
    let extra: Partial<ExecResult> = {};
    for (;;) {
      const left = BigInt(maxInsns) - (m.insnsRetired - start);
      if (left <= 0n) { stop = 'limit'; break; }
      const reason = m.vmresume(left);
      if (reason === EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED) { stop = 'limit'; break; }
      if (reason === EXIT_REASON_EXCEPTION_NMI) {
        const info = Number(m.vmread('VM_EXIT_INTR_INFO'));
        const vector = info & 0xff, type = (info >> 8) & 7;
        const rip = m.vmread('GUEST_RIP');
        if (vector === X86_EXC_UD && rip === end) { stop = 'end'; break; }
        stop = 'exception';
        extra = { vector };
        if (info & (1 << 11)) extra.error_code = hex(m.vmread('VM_EXIT_INTR_ERROR_CODE'));
        if (vector === X86_EXC_PF) extra.cr2 = hex(m.vmread('EXIT_QUALIFICATION'));
        // INT3/INTO (type 6) and INT1 (type 5) are traps: the SDM leaves RIP after the instruction once delivered.
        if (type === 6 || type === 5) m.vmwrite('GUEST_RIP', rip + m.vmread('VM_EXIT_INSTRUCTION_LEN'));
        break;
      }
      if (reason === EXIT_REASON_CPUID) { // CPUID: emulate as a hypervisor would, then resume
        const r = nativeCpuid(Number(m.gpr('rax') & 0xffffffffn), Number(m.gpr('rcx') & 0xffffffffn));
        m.setGpr('rax', r.eax); m.setGpr('rbx', r.ebx); m.setGpr('rcx', r.ecx); m.setGpr('rdx', r.edx);
        m.vmwrite('GUEST_RIP', m.vmread('GUEST_RIP') + m.vmread('VM_EXIT_INSTRUCTION_LEN'));
        // Completing it for the guest completes its single-step too (as Xen's update_guest_eip
        // injects #DB when RFLAGS.TF is set): the case ends with the #DB, as SIGTRAP ends it natively.
        if ((m.vmread('GUEST_RFLAGS') & 0x100n) !== 0n) { stop = 'exception'; extra = { vector: 1 }; break; }
        continue;
      }
      stop = 'exit';
      extra = { exit_reason: exitReasonName(reason) };
      break;
    }
    const regsOut = {} as Record<GprName, string>;
    GPR_NAMES.forEach((n, i) => { regsOut[n] = hex(m.gpr(i)); });
    return {
      stop,
      rip: hex(m.vmread('GUEST_RIP')),
      regs: regsOut,
      rflags: hex(m.vmread('GUEST_RFLAGS')),
      insns: Number(m.insnsRetired - start),
      data_fnv1a64: hex(m.fnv1a64(DATA_PA, WINDOW)),
      ...extra,
      ...fpResult(m.fxsave()),
    };
  }
}
