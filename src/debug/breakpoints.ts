// The debugger's breakpoints: on guest-linear addresses (kernel symbols
// resolve to addresses; an optional CR3 narrows one to an address space), on
// VM-exit reasons, before VMFUNC (EPT view switches made without a VM exit),
// and on VMI requests (raised by the VMFUNC-aware RDTSC handler). Address and
// VMFUNC breakpoints are the CPU's own (Machine.setBreakpoints /
// breakOnVmfunc), so the guest's memory is never patched.
import { EXIT_REASONS } from '../vmcs.js';
import { DebugError } from './format.js';
import { hex } from '../util/format.js';

export type BreakpointSpec =
  | { kind: 'address'; addr: bigint; /** What the user typed, e.g. "schedule" or "0x4000be". */ label: string; cr3?: bigint }
  | { kind: 'exit'; reason: number }
  | { kind: 'vmfunc' }
  | { kind: 'vmi' };

export interface Breakpoint { id: number; spec: BreakpointSpec; hits: number }

/** The CPU keeps at most this many address breakpoints (console and gdb together). */
export const MAX_ADDRESS_BREAKPOINTS = 64;

/** Exit reason by name ("RDTSC", "ept_violation", "EXIT_REASON_HLT", "ept-violation") or number ("16", "0x10"). */
export function parseExitReason(text: string): number {
  const t = text.trim();
  if (/^(0x[0-9a-f]+|\d+)$/i.test(t)) {
    const n = Number(t);
    if (n > 0xffff) throw new DebugError(`exit reason ${t} is out of range (basic exit reasons are 0..65535)`);
    return n;
  }
  const name = t.toUpperCase().replace(/-/g, '_').replace(/^EXIT_REASON_/, '');
  for (const [n, s] of Object.entries(EXIT_REASONS)) if (s === name) return Number(n);
  const near = Object.values(EXIT_REASONS).filter((s) => s.includes(name) || name.includes(s)).slice(0, 6);
  throw new DebugError(`unknown exit reason "${text}"${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}; ` +
    'give a name from the SDM\'s Appendix C as Xen spells it (RDTSC, IO_INSTRUCTION, EPT_VIOLATION, ...) or a number');
}

export function describeBreakpoint(b: Breakpoint): string {
  const s = b.spec;
  switch (s.kind) {
    case 'address': return `at ${hex(s.addr)}${s.label !== hex(s.addr) ? ` <${s.label}>` : ''}${s.cr3 !== undefined ? ` when cr3 = ${hex(s.cr3)}` : ''}`;
    case 'exit': return `on VM exit ${EXIT_REASONS[s.reason] ?? `UNKNOWN_${s.reason}`} (${s.reason})`;
    case 'vmfunc': return 'before VMFUNC (EPT view switches without a VM exit)';
    case 'vmi': return 'on VMI requests (raised by the VMFUNC-aware RDTSC handler)';
  }
}

export class Breakpoints {
  private readonly list: Breakpoint[] = [];
  private nextId = 1;

  all(): readonly Breakpoint[] { return this.list; }

  /** Adds a breakpoint; an identical one is returned instead of a duplicate (with `existing` set). */
  add(spec: BreakpointSpec): { bp: Breakpoint; existing: boolean } {
    const same = this.list.find((b) => JSON.stringify(b.spec, big) === JSON.stringify(spec, big));
    if (same) return { bp: same, existing: true };
    if (spec.kind === 'address' && this.addresses().length >= MAX_ADDRESS_BREAKPOINTS && !this.addresses().includes(spec.addr)) {
      throw new DebugError(`the CPU holds at most ${MAX_ADDRESS_BREAKPOINTS} address breakpoints`);
    }
    const bp = { id: this.nextId++, spec, hits: 0 };
    this.list.push(bp);
    return { bp, existing: false };
  }

  delete(id: number): Breakpoint {
    const i = this.list.findIndex((b) => b.id === id);
    if (i < 0) throw new DebugError(`no breakpoint number ${id} (see "info breakpoints")`);
    return this.list.splice(i, 1)[0];
  }
  clear(): number { const n = this.list.length; this.list.length = 0; return n; }

  /** Distinct addresses of the address breakpoints (for the CPU's list). */
  addresses(): bigint[] {
    return [...new Set(this.list.flatMap((b) => (b.spec.kind === 'address' ? [b.spec.addr] : [])))];
  }
  get vmfunc(): Breakpoint | undefined { return this.list.find((b) => b.spec.kind === 'vmfunc'); }
  get vmi(): Breakpoint | undefined { return this.list.find((b) => b.spec.kind === 'vmi'); }
  onExit(reason: number): Breakpoint | undefined {
    return this.list.find((b) => b.spec.kind === 'exit' && b.spec.reason === (reason & 0xffff));
  }
  /** Address breakpoints that stop at `addr` in the address space `cr3`. */
  at(addr: bigint, cr3: bigint): Breakpoint[] {
    const base = cr3 & 0x000ffffffffff000n;
    return this.list.filter((b) => b.spec.kind === 'address' && b.spec.addr === addr &&
      (b.spec.cr3 === undefined || (b.spec.cr3 & 0x000ffffffffff000n) === base));
  }
}

function big(_k: string, v: unknown): unknown { return typeof v === 'bigint' ? v.toString() : v; }
