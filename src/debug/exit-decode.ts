// A VM exit, captured at the moment it happens (before Xen's handler runs)
// and decoded the way the SDM lays the fields out: the basic exit reason
// (Appendix C), the exit qualification per reason (Vol. 3C 28.2.1, Tables
// 28-1 .. 28-7), the VM-exit and IDT-vectoring interruption information
// (25.9.2, 25.9.3), and the registers that say what an instruction exit was
// asking for (CPUID leaf, MSR, hypercall, port value).
import type { Machine } from '../machine.js';
import { GPR_NAMES } from '../machine.js';
import { exitReasonName, fieldEncoding } from '../vmcs.js';
import * as R from '../../assembly/shared/exit-reasons.js';
import * as M from '../../assembly/shared/msr-index.js';
import * as X86 from '../../assembly/shared/x86-defns.js';
import { HYPERCALL_NAMES, XEN_HYPERCALL_PAGE_MSR } from '../xen/public.js';
import { hex } from '../util/format.js';

/** Exception mnemonics by vector, from the shared X86_EXC_* (#DE, #DB, NMI, ... #CP). */
export const EXCEPTION_NAMES: Record<number, string> = Object.fromEntries(Object.entries(X86)
  .filter((e): e is [string, number] => e[0].startsWith('X86_EXC_') && typeof e[1] === 'number')
  .map(([name, vec]) => { const s = name.slice('X86_EXC_'.length); return [vec, s === 'NMI' ? s : s === 'CSO' ? 'coprocessor segment overrun' : `#${s}`]; }));
const INTR_TYPES = ['external interrupt', 'reserved(1)', 'NMI', 'hardware exception', 'software interrupt',
  'privileged software exception', 'software exception', 'other event'];

/** Well-known MSRs by number, for MSR exits. */
const MSR_NAMES: Record<number, string> = {
  [M.MSR_IA32_TSC]: 'IA32_TSC', [M.MSR_IA32_APIC_BASE]: 'IA32_APIC_BASE', [M.MSR_IA32_SYSENTER_CS]: 'IA32_SYSENTER_CS',
  [M.MSR_IA32_SYSENTER_ESP]: 'IA32_SYSENTER_ESP', [M.MSR_IA32_SYSENTER_EIP]: 'IA32_SYSENTER_EIP',
  [M.MSR_IA32_MISC_ENABLE]: 'IA32_MISC_ENABLE', [M.MSR_IA32_CR_PAT]: 'IA32_PAT', [M.MSR_EFER]: 'IA32_EFER',
  [M.MSR_STAR]: 'IA32_STAR', [M.MSR_LSTAR]: 'IA32_LSTAR', [M.MSR_CSTAR]: 'IA32_CSTAR', [M.MSR_SYSCALL_MASK]: 'IA32_FMASK',
  [M.MSR_FS_BASE]: 'IA32_FS_BASE', [M.MSR_GS_BASE]: 'IA32_GS_BASE', [M.MSR_SHADOW_GS_BASE]: 'IA32_KERNEL_GS_BASE',
  [M.MSR_TSC_AUX]: 'IA32_TSC_AUX', [XEN_HYPERCALL_PAGE_MSR]: 'Xen hypercall page',
};
/** The TVM's ports (firmware/README.md). */
const PORT_NAMES: Record<number, string> = {
  0x3f8: 'COM1 THR/RBR', 0x3f9: 'COM1 IER', 0x3fa: 'COM1 IIR/FCR', 0x3fb: 'COM1 LCR', 0x3fc: 'COM1 MCR', 0x3fd: 'COM1 LSR',
  0x3fe: 'COM1 MSR', 0x3ff: 'COM1 SCR', 0x501: 'exit port', 0x80: 'POST/delay port',
};

/** Everything the debugger shows about one VM exit, read from the VMCS and the registers at the exit. */
export interface ExitInfo {
  /** Ordinal of the exit in this session (1 = the first). */
  seq: number;
  reason: number;
  name: string;
  qualification: bigint;
  rip: bigint;
  cr3: bigint;
  cpl: number;
  instrLen: number;
  intrInfo: number;
  intrError: number;
  idtVectoring: number;
  idtVectoringError: number;
  gpa: bigint;
  gla: bigint;
  eptp: bigint;
  eptpIndexField: number;
  insns: bigint;
  vcycles: bigint;
  /** General-purpose registers at the exit (what the handler will read). */
  regs: Record<string, bigint>;
  /** One line: what the qualification (or the registers) say. */
  decoded: string;
  /** Further lines (interruption information, addresses). */
  details: string[];
}

/** A field that a CPU may lack (EPTP_INDEX exists only with #VE support): 0 when absent. */
function read(m: Machine, f: string): bigint { return m.vmfieldExists(fieldEncoding(f)) ? m.vmread(f) : 0n; }

export function captureExit(m: Machine, reason: number, seq: number): ExitInfo {
  const regs = {} as ExitInfo['regs'];
  for (const r of GPR_NAMES) regs[r] = r === 'rsp' ? m.vmread('GUEST_RSP') : m.gpr(r);
  const info: ExitInfo = {
    seq, reason, name: exitReasonName(reason),
    qualification: m.vmread('EXIT_QUALIFICATION'),
    rip: m.vmread('GUEST_RIP'), cr3: m.vmread('GUEST_CR3'), cpl: Number((m.vmread('GUEST_SS_AR_BYTES') >> 5n) & 3n),
    instrLen: Number(m.vmread('VM_EXIT_INSTRUCTION_LEN')),
    intrInfo: Number(m.vmread('VM_EXIT_INTR_INFO')), intrError: Number(m.vmread('VM_EXIT_INTR_ERROR_CODE')),
    idtVectoring: Number(m.vmread('IDT_VECTORING_INFO_FIELD')), idtVectoringError: Number(m.vmread('IDT_VECTORING_ERROR_CODE')),
    gpa: read(m, 'GUEST_PHYSICAL_ADDRESS'), gla: read(m, 'GUEST_LINEAR_ADDRESS'),
    eptp: m.vmread('EPT_POINTER'), eptpIndexField: Number(read(m, 'EPTP_INDEX')),
    insns: m.insnsRetired, vcycles: m.vcycles, regs, decoded: '', details: [],
  };
  const d = decodeExit(info);
  info.decoded = d.decoded;
  info.details = d.details;
  return info;
}

/** "vector 14 (#PF), hardware exception, error code 0x2" for an interruption-information field. */
export function decodeInterruptionInfo(info: number, errorCode?: number): string {
  if (!(info & 0x80000000)) return 'not valid';
  const vec = info & 0xff, type = (info >> 8) & 7;
  const name = type === 3 || type === 6 || type === 5 ? EXCEPTION_NAMES[vec] : type === 2 ? 'NMI' : undefined;
  let s = `vector ${vec}${name ? ` (${name})` : ''}, ${INTR_TYPES[type]}`;
  if (info & 0x800) s += `, error code ${errorCode !== undefined ? hex(errorCode) : 'valid'}`;
  if (info & 0x1000) s += ', NMI unblocking due to IRET';
  return s;
}

/** Table 28-7: the exit qualification of an EPT violation. */
export function decodeEptViolation(q: bigint): string {
  const b = (n: number) => ((q >> BigInt(n)) & 1n) === 1n;
  const access = [b(0) && 'data read', b(1) && 'data write', b(2) && 'instruction fetch'].filter(Boolean).join(' + ') || 'no access bit';
  const perm = `${b(3) ? 'R' : '-'}${b(4) ? 'W' : '-'}${b(5) ? 'X' : '-'}${b(6) ? ' XU' : ''}`;
  const parts = [`${access}; the guest-physical address was ${perm === '---' ? 'not present' : perm}`];
  if (b(7)) parts.push(b(8) ? 'linear address valid, access to the translated address' : 'linear address valid, access to a paging-structure entry');
  else parts.push('no linear address');
  if (b(7) && b(8)) {
    if (b(9)) parts.push('user-mode linear address');
    if (b(10)) parts.push('read/write page');
    if (b(11)) parts.push('execute-disable page');
  }
  if (b(12)) parts.push('NMI unblocking due to IRET');
  if (b(13)) parts.push('shadow-stack access');
  if (b(14)) parts.push('supervisor shadow-stack');
  if (b(15)) parts.push('guest-paging verification');
  if (b(16)) parts.push('asynchronous to instruction execution');
  return parts.join(', ');
}

/** Table 28-5: I/O instructions. */
export function decodeIo(q: bigint, regs?: ExitInfo['regs']): string {
  const size = Number(q & 7n) + 1, inDir = (q & 8n) !== 0n, str = (q & 0x10n) !== 0n, rep = (q & 0x20n) !== 0n;
  const imm = (q & 0x40n) !== 0n, port = Number((q >> 16n) & 0xffffn);
  const reg = size === 1 ? 'AL' : size === 2 ? 'AX' : 'EAX';
  const mnem = str ? `${rep ? 'REP ' : ''}${inDir ? 'INS' : 'OUTS'}${size === 1 ? 'B' : size === 2 ? 'W' : 'D'}`
    : inDir ? `IN ${reg}, ${imm ? 'imm8' : 'DX'}` : `OUT ${imm ? 'imm8' : 'DX'}, ${reg}`;
  let s = `${mnem}: port ${hex(port)}${PORT_NAMES[port] ? ` (${PORT_NAMES[port]})` : ''}, ${size} byte${size > 1 ? 's' : ''}, ${inDir ? 'in' : 'out'}`;
  if (!inDir && !str && regs) {
    const v = regs.rax & ((1n << BigInt(8 * size)) - 1n);
    s += `, value ${hex(v)}`;
    if (size === 1 && v >= 0x20n && v < 0x7fn) s += ` '${String.fromCharCode(Number(v))}'`;
    else if (size === 1 && v === 10n) s += " '\\n'";
  }
  return s;
}

/** Table 28-3: control-register accesses. */
export function decodeCrAccess(q: bigint): string {
  const cr = Number(q & 0xfn), type = Number((q >> 4n) & 3n), gpr = GPR_NAMES[Number((q >> 8n) & 0xfn)];
  switch (type) {
    case 0: return `MOV to CR${cr} from ${gpr}`;
    case 1: return `MOV from CR${cr} to ${gpr}`;
    case 2: return 'CLTS';
    default: return `LMSW (${(q >> 6n) & 1n ? 'memory' : 'register'} operand), source data ${hex((q >> 16n) & 0xffffn)}`;
  }
}

/** Table 28-4: debug-register accesses. */
export function decodeDrAccess(q: bigint): string {
  const dr = Number(q & 7n), from = (q & 0x10n) !== 0n, gpr = GPR_NAMES[Number((q >> 8n) & 0xfn)];
  return from ? `MOV from DR${dr} to ${gpr}` : `MOV to DR${dr} from ${gpr}`;
}

/** Table 28-2: task switches. */
export function decodeTaskSwitch(q: bigint): string {
  const src = ['CALL', 'IRET', 'JMP', 'task gate in the IDT'][Number((q >> 30n) & 3n)];
  return `task switch by ${src} to TSS selector ${hex(q & 0xffffn)}`;
}

/** Table 28-1: debug exceptions (#DB exits carry DR6-like bits). */
export function decodeDebugQual(q: bigint): string {
  const parts: string[] = [];
  for (let i = 0; i < 4; i++) if ((q >> BigInt(i)) & 1n) parts.push(`B${i}`);
  if (q & 0x2000n) parts.push('BD');
  if (q & 0x4000n) parts.push('BS (single step)');
  if (q & 0x10000n) parts.push('RTM');
  return parts.length ? parts.join(' ') : 'no condition bits';
}

function decodeExit(x: ExitInfo): { decoded: string; details: string[] } {
  const q = x.qualification, r = x.regs, details: string[] = [];
  const lo32 = (v: bigint) => v & 0xffffffffn;
  let decoded: string;
  switch (x.reason & 0xffff) {
    case R.EXIT_REASON_EXCEPTION_NMI: {
      const vec = x.intrInfo & 0xff, type = (x.intrInfo >> 8) & 7;
      decoded = decodeInterruptionInfo(x.intrInfo, x.intrError);
      if (type === 3 && vec === X86.X86_EXC_PF) details.push(`page-fault linear address ${hex(q)} (the exit qualification; CR2 is not yet written)`);
      else if (type === 3 && vec === X86.X86_EXC_DB) details.push(`debug conditions: ${decodeDebugQual(q)}`);
      break;
    }
    case R.EXIT_REASON_EXTERNAL_INTERRUPT: decoded = x.intrInfo & 0x80000000 ? `host interrupt ${decodeInterruptionInfo(x.intrInfo)}` : 'host interrupt (not acknowledged on exit)'; break;
    case R.EXIT_REASON_TRIPLE_FAULT: decoded = 'triple fault: the guest could not deliver a double fault'; break;
    case R.EXIT_REASON_PENDING_VIRT_INTR: decoded = 'interrupt window open: RFLAGS.IF = 1 and no STI/MOV-SS blocking (Xen injects the pending interrupt)'; break;
    case R.EXIT_REASON_TASK_SWITCH: decoded = decodeTaskSwitch(q); break;
    case R.EXIT_REASON_CPUID: decoded = `CPUID leaf ${hex(lo32(r.rax))}, subleaf ${hex(lo32(r.rcx))}`; break;
    case R.EXIT_REASON_HLT: decoded = 'HLT: the vCPU blocks until its next event'; break;
    case R.EXIT_REASON_INVLPG: decoded = `INVLPG ${hex(q)}`; break;
    case R.EXIT_REASON_RDTSC: decoded = 'RDTSC with RDTSC exiting on (the VMI trigger): Xen emulates it and checks the EPT view'; break;
    case R.EXIT_REASON_RDTSCP: decoded = 'RDTSCP with RDTSC exiting on (the VMI trigger): Xen emulates it and checks the EPT view'; break;
    case R.EXIT_REASON_VMCALL: {
      const n = Number(lo32(r.rax));
      decoded = `hypercall ${n} (${HYPERCALL_NAMES[n] ?? 'unknown'}), args rdi ${hex(r.rdi)} rsi ${hex(r.rsi)} rdx ${hex(r.rdx)} r10 ${hex(r.r10)} r8 ${hex(r.r8)}`;
      break;
    }
    case R.EXIT_REASON_CR_ACCESS: decoded = decodeCrAccess(q); break;
    case R.EXIT_REASON_DR_ACCESS: decoded = decodeDrAccess(q); break;
    case R.EXIT_REASON_IO_INSTRUCTION: decoded = decodeIo(q, r); break;
    case R.EXIT_REASON_MSR_READ: { const msr = Number(lo32(r.rcx)); decoded = `RDMSR ${hex(msr)}${MSR_NAMES[msr] ? ` (${MSR_NAMES[msr]})` : ''}`; break; }
    case R.EXIT_REASON_MSR_WRITE: {
      const msr = Number(lo32(r.rcx));
      decoded = `WRMSR ${hex(msr)}${MSR_NAMES[msr] ? ` (${MSR_NAMES[msr]})` : ''} value ${hex((lo32(r.rdx) << 32n) | lo32(r.rax))}`;
      break;
    }
    case R.EXIT_REASON_MONITOR_TRAP_FLAG: decoded = 'monitor trap flag: one instruction retired'; break;
    case R.EXIT_REASON_EPT_VIOLATION:
      decoded = decodeEptViolation(q);
      details.push(`guest-physical address ${hex(x.gpa)}${(q >> 7n) & 1n ? `, guest-linear address ${hex(x.gla)}` : ''}`);
      break;
    case R.EXIT_REASON_EPT_MISCONFIG: decoded = `EPT misconfiguration at guest-physical ${hex(x.gpa)}`; break;
    case R.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED: decoded = 'VMX-preemption timer expired: the host timer that raises the guest\'s next tick'; break;
    case R.EXIT_REASON_XSETBV: decoded = `XSETBV XCR${lo32(r.rcx)} = ${hex((lo32(r.rdx) << 32n) | lo32(r.rax))}`; break;
    case R.EXIT_REASON_VMFUNC: decoded = `VMFUNC leaf ${lo32(r.rax)}, EPTP-list index ${lo32(r.rcx)}: the function or the list entry is not valid (Xen injects #UD)`; break;
    default: decoded = q ? `qualification ${hex(q)}` : 'no qualification for this reason';
  }
  if (x.reason & R.VMX_EXIT_REASONS_FAILED_VMENTRY) decoded = `VM-entry failure: ${decoded}`;
  if (x.idtVectoring & 0x80000000) {
    details.push(`during event delivery: ${decodeInterruptionInfo(x.idtVectoring, x.idtVectoringError)} (IDT-vectoring information; Xen re-injects it)`);
  }
  return { decoded, details };
}
