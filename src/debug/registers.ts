// The vCPU's registers by name, for the console ($rax, regs) and the gdb stub
// (g/G/p/P). General-purpose registers live in the CPU; RSP, RIP, RFLAGS,
// segment selectors and bases, control registers and EFER in the VMCS
// guest-state area (the CPU loads them from there at every VM entry, so that
// is where a debugger writes them).
import type { Machine, GprName } from '../machine.js';
import { GPR_NAMES } from '../machine.js';
import * as X86 from '../../assembly/shared/x86-defns.js';
import { DebugError, hex } from './format.js';

const VMCS_REGS: Record<string, string> = {
  rsp: 'GUEST_RSP', rip: 'GUEST_RIP', rflags: 'GUEST_RFLAGS', eflags: 'GUEST_RFLAGS',
  cs: 'GUEST_CS_SELECTOR', ss: 'GUEST_SS_SELECTOR', ds: 'GUEST_DS_SELECTOR', es: 'GUEST_ES_SELECTOR',
  fs: 'GUEST_FS_SELECTOR', gs: 'GUEST_GS_SELECTOR', fs_base: 'GUEST_FS_BASE', gs_base: 'GUEST_GS_BASE',
  cr0: 'GUEST_CR0', cr3: 'GUEST_CR3', cr4: 'GUEST_CR4', efer: 'GUEST_IA32_EFER',
};
/** Registers a debugger may change (the rest need the hypervisor's consistency checks). */
const WRITABLE = new Set([...GPR_NAMES, 'rip', 'rflags', 'eflags', 'fs_base', 'gs_base']);

export const REGISTER_NAMES = [...GPR_NAMES, 'rip', 'rflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'fs_base', 'gs_base',
  'cr0', 'cr2', 'cr3', 'cr4', 'efer'];

export function isRegister(name: string): boolean { return REGISTER_NAMES.includes(name) || name === 'eflags' || name === 'pc' || name === 'sp'; }

export function readReg(m: Machine, name: string): bigint {
  const n = name === 'pc' ? 'rip' : name === 'sp' ? 'rsp' : name;
  if (VMCS_REGS[n]) return m.vmread(VMCS_REGS[n]);
  if (n === 'cr2') return m.cr2;
  if ((GPR_NAMES as readonly string[]).includes(n)) return m.gpr(n as GprName);
  throw new DebugError(`unknown register "${name}" (${REGISTER_NAMES.join(', ')})`);
}

export function writeReg(m: Machine, name: string, value: bigint): void {
  const n = name === 'pc' ? 'rip' : name === 'sp' ? 'rsp' : name;
  if (!isRegister(n)) throw new DebugError(`unknown register "${name}"`);
  if (!WRITABLE.has(n)) {
    if (readReg(m, n) === value) return; // writing back the same value (gdb's G packet) is fine
    throw new DebugError(`register ${n} is read-only in the debugger (it needs the hypervisor's checks); wanted ${hex(value)}`);
  }
  value = BigInt.asUintN(64, value);
  if (n === 'rflags' || n === 'eflags') value = (value & 0x3f7fd7n) | 2n; // reserved bits: 1 is set, 3/5/15/22+ clear
  if (VMCS_REGS[n]) m.vmwrite(VMCS_REGS[n], value);
  else m.setGpr(n as GprName, value);
}

/** [bit, name] of every one-bit RFLAGS field (assembly/shared/x86-defns.ts), by bit; the reserved bit 1 is ''. */
export const RFLAGS_BITS: [number, string][] = Object.entries(X86)
  .filter((e): e is [string, number] => e[0].startsWith('X86_EFLAGS_') && typeof e[1] === 'number' && Number.isInteger(Math.log2(e[1])))
  .map(([name, mask]): [number, string] => [Math.log2(mask), name === 'X86_EFLAGS_MBS' ? '' : name.slice('X86_EFLAGS_'.length)])
  .sort(([a], [b]) => a - b);
const FLAG_NAMES = RFLAGS_BITS.filter(([, name]) => name !== '');
export function describeRflags(v: bigint): string {
  const f = FLAG_NAMES.filter(([b]) => (v >> BigInt(b)) & 1n).map(([, s]) => s);
  const iopl = Number((v >> 12n) & 3n);
  if (iopl) f.push(`IOPL=${iopl}`);
  return f.length ? `[ ${f.join(' ')} ]` : '[ ]';
}
