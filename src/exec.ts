// `vmfunc-vmi exec`: runs raw code snippets in a fixed user-mode environment
// so that any harness can run the same case natively and compare.
//   code  at 0x10000000, 64 KiB, user read/execute
//   data  at 0x20000000, 64 KiB, user read/write/no-execute, byte i = (i*131+7) & 255
//   CPL 3, nothing else mapped. Exceptions end the run (exception bitmap = all ones).
import { Machine, GPR_NAMES, GprName } from './machine.js';
import { nativeCpuid } from './cpuid.js';
import {
  exitReasonName, EXIT_REASON_EXCEPTION_NMI, EXIT_REASON_CPUID, EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED,
} from './vmcs.js';
import { X86_EXC_UD, X86_EXC_PF } from '../assembly/shared/x86-defns.js';
import { EptTable, EPT_RWX } from './xen/ept.js';
import { FrameAllocator } from './xen/frames.js';
import { hex } from './util/format.js';

export const CODE_VA = 0x10000000;
export const DATA_VA = 0x20000000;
export const WINDOW = 0x10000;
const DEFAULT_MAX_INSNS = 10_000_000;

// Machine-physical layout of the environment.
const PML4 = 0x1000, PDPT = 0x2000, PD = 0x3000, PT_CODE = 0x4000, PT_DATA = 0x5000;
const CODE_PA = 0x100000, DATA_PA = 0x200000;
const MEM_MIB = 4;

export interface ExecCase {
  code: string;
  regs?: Partial<Record<GprName, string | number>>;
  rflags?: string | number;
  max_insns?: number;
}

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
  static parseCase(obj: unknown): { code: Uint8Array; regs: bigint[]; rflags: bigint; maxInsns: number } {
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ExecInputError('expected a JSON object');
    const o = obj as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (!['code', 'regs', 'rflags', 'max_insns'].includes(k)) throw new ExecInputError(`unknown field "${k}"`);
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
    return { code, regs, rflags, maxInsns };
  }

  run(c: ExecCase): ExecResult {
    const p = ExecEnv.parseCase(c);
    return this.runBinary(p.code, p.regs, p.rflags, p.maxInsns);
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
    mem.fill(0, 0, 0x6000);
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
    w('GUEST_CR0', 0x80050033n); // PG, WP, NE, ET, MP, PE (AM clear: no alignment checks)
    w('GUEST_CR3', PML4);
    w('GUEST_CR4', 0x20);        // PAE
    w('GUEST_IA32_EFER', 0xd01); // SCE, LME, LMA, NXE
    w('GUEST_CS_SELECTOR', 0x33); w('GUEST_CS_AR_BYTES', 0xa0fb); w('GUEST_CS_LIMIT', 0xffffffff); w('GUEST_CS_BASE', 0);
    w('GUEST_SS_SELECTOR', 0x2b); w('GUEST_SS_AR_BYTES', 0xc0f3); w('GUEST_SS_LIMIT', 0xffffffff); w('GUEST_SS_BASE', 0);
    for (const s of ['DS', 'ES', 'FS', 'GS', 'LDTR']) {
      w(`GUEST_${s}_SELECTOR`, 0); w(`GUEST_${s}_AR_BYTES`, 0x10000); w(`GUEST_${s}_BASE`, 0); w(`GUEST_${s}_LIMIT`, 0);
    }
    w('GUEST_TR_SELECTOR', 0x40); w('GUEST_TR_AR_BYTES', 0x8b); w('GUEST_TR_BASE', 0); w('GUEST_TR_LIMIT', 0x67);
    w('GUEST_GDTR_BASE', 0); w('GUEST_GDTR_LIMIT', 0); w('GUEST_IDTR_BASE', 0); w('GUEST_IDTR_LIMIT', 0);
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

  runBinary(code: Uint8Array, regs: bigint[], rflags = 0x202n, maxInsns = DEFAULT_MAX_INSNS): ExecResult {
    const m = this.machine;
    this.setup(code);
    this.loadState(regs, rflags);
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
        // INT3/INTO are traps: the SDM leaves RIP after the instruction once delivered.
        if (type === 6) m.vmwrite('GUEST_RIP', rip + m.vmread('VM_EXIT_INSTRUCTION_LEN'));
        break;
      }
      if (reason === EXIT_REASON_CPUID) { // CPUID: emulate as a hypervisor would, then resume
        const r = nativeCpuid(Number(m.gpr('rax') & 0xffffffffn), Number(m.gpr('rcx') & 0xffffffffn));
        m.setGpr('rax', r.eax); m.setGpr('rbx', r.ebx); m.setGpr('rcx', r.ecx); m.setGpr('rdx', r.edx);
        m.vmwrite('GUEST_RIP', m.vmread('GUEST_RIP') + m.vmread('VM_EXIT_INSTRUCTION_LEN'));
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
    };
  }
}
