// One source of truth across the Wasm boundary: the VMX facts the CPU and the host share -- VMCS field
// encodings (Intel SDM Vol. 3C, Appendix B), basic exit reasons (Appendix C), control bits (25.6-25.8),
// GPR names and limits -- live only in assembly/shared/, compiled by asc into the CPU and imported by
// tsc into the host. (a) a scan of the tree finds no second definition of anything exported there,
// (b) the host reaches into assembly/ only through assembly/shared/, (c) the compiled CPU and the host
// agree at run time.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as FIELDS from '../assembly/shared/vmcs-fields.js';
import * as REASONS from '../assembly/shared/exit-reasons.js';
import * as CONTROLS from '../assembly/shared/vmx-controls.js';
import * as LIMITS from '../assembly/shared/limits.js';
import * as MSRS from '../assembly/shared/msr-index.js';
import * as X86 from '../assembly/shared/x86-defns.js';
import { GPR_NAMES } from '../assembly/shared/regs.js';
import { Machine } from '../src/machine.js';
import { RFLAGS_BITS } from '../src/debug/registers.js';
import { EXCEPTION_NAMES } from '../src/debug/exit-decode.js';
import {
  fieldName, exitReasonName, VMCS_FIELDS, PIN_BASED_CONTROL_BITS, CPU_BASED_CONTROL_BITS, SECONDARY_EXEC_CONTROL_BITS,
} from '../src/vmcs.js';
import { TestGuest } from './helpers/guest.js';
import { haveAssembler } from './helpers/asm.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = 'assembly/shared/';

function numbers(mod: object): Map<string, number> {
  return new Map(Object.entries(mod).filter((e): e is [string, number] => typeof e[1] === 'number'));
}
const fieldByName = numbers(FIELDS);
const reasonByName = numbers(REASONS);
/** Every exported name of assembly/shared/: defining one again elsewhere is a copy, whatever its value. */
const sharedNames = new Set([...fieldByName.keys(), ...reasonByName.keys(), ...numbers(CONTROLS).keys(),
  ...numbers(LIMITS).keys(), ...numbers(MSRS).keys(), ...numbers(X86).keys(), 'GPR_NAMES']);
/** Other spellings of an exit reason (the printed name, Xen's name without EXIT_REASON_): copies if keyed by its number. */
const reasonAliases = new Map<string, number>();
for (const [name, r] of reasonByName) {
  if (!name.startsWith('EXIT_REASON_')) continue;
  reasonAliases.set(name.slice('EXIT_REASON_'.length), r);
  if (REASONS.exitReasonShortName(r)) reasonAliases.set(REASONS.exitReasonShortName(r), r);
}
const fieldEncodings = new Set(fieldByName.values());
const sharedValue = new Map([...numbers(FIELDS), ...numbers(REASONS), ...numbers(CONTROLS), ...numbers(LIMITS), ...numbers(MSRS),
  ...numbers(X86)]);
const reasonNumbers = new Set([...reasonAliases.values()]);
/** The x86-64 MSRs (0xc00000xx): their indices are unmistakable as literals in the CPU or the host. */
const longModeMsrs = new Set([...numbers(MSRS).values()].filter((v) => v >= 0xc0000000));
/** "bit:name" of every control bit as the debugger shows it (the host derives these from vmx-controls.ts). */
const controlBitNames = new Set([...PIN_BASED_CONTROL_BITS, ...CPU_BASED_CONTROL_BITS, ...SECONDARY_EXEC_CONTROL_BITS]
  .map(([bit, name]) => `${bit}:${name}`));
/** "bit:name" of the RFLAGS flags as the debugger and the gdb stub name them (derived from x86-defns.ts). */
/** "vector:name" of the exception mnemonics (derived from X86_EXC_*). */
const exceptionNames = new Set(Object.entries(EXCEPTION_NAMES).map(([vec, name]) => `${vec}:${name}`));
const rflagsBitNames = new Set(RFLAGS_BITS.filter(([, name]) => name !== '').map(([bit, name]) => `${bit}:${name}`));
const GPR_SET = new Set(GPR_NAMES);

export interface Copy { file: string; line: number; what: string }

function literalValue(s: string): number | undefined {
  const t = s.trim();
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t, 16);
  if (/^\d+$/.test(t)) return Number(t);
  const shift = /^(\d+)\s*<<\s*(\d+)$/.exec(t);
  return shift ? Number(shift[1]) * 2 ** Number(shift[2]) : undefined;
}

/** Names the CPU re-exports a shared constant under (export { X86_CR0_PG as CR0_PG }): one defined with the same value is a copy too. */
function aliasNames(files: string[]): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const f of files) {
    for (const block of readFileSync(join(ROOT, f), 'utf8').matchAll(/export\s*\{([^}]*)\}/g)) {
      for (const m of block[1].matchAll(/\b([A-Z][A-Z0-9_]*)\s+as\s+([A-Z][A-Z0-9_]*)\b/g)) if (sharedNames.has(m[1])) out.set(m[2], sharedValue.get(m[1]));
    }
  }
  return out;
}

/** Copies of shared facts in one file's text (comments removed first: prose may name a value). */
export function findCopies(file: string, source: string): Copy[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, (c) => c.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: Copy[] = [];
  const at = (i: number, what: string) => out.push({ file, line: text.slice(0, i).split('\n').length, what });
  // NAME = init (a declaration) or NAME: init (an object key): not a property access, a ternary or a case label
  for (const m of text.matchAll(/(?<=(?:^|[{,]|\b(?:const|let|var))\s*)\b([A-Z][A-Z0-9_]*)\s*(?::\s*[a-z0-9]+\s*)?(=|:)(?!=)(?=\s*([^,;\n)}]*))/gm)) {
    const [, name, op, init] = m;
    const v = literalValue(init);
    // A declaration (unless it only names the shared constant again), or a key holding a list, the shared
    // value, or any number under a VMX-only name (a key mapping a name to prose is fine, and LibVMI's
    // register numbers reuse MSR names for another fact)
    const vmxOnly = fieldByName.has(name) || reasonByName.has(name);
    const defines = op === '=' ? !new RegExp(`^\\s*[\\w.]*\\b${name}\\s*$`).test(init)
      : init.trim().startsWith('[') || (v !== undefined && (vmxOnly || v === sharedValue.get(name)));
    const aliasCopy = aliases.get(name) !== undefined && aliases.get(name) === v; // short names (PF, DF) mean other things too
    if ((sharedNames.has(name) || aliasCopy || name.startsWith('EXIT_REASON_')) && defines) at(m.index!, `${name} defined outside ${SHARED}`);
    else if (v !== undefined && reasonAliases.get(name) === v) at(m.index!, `exit reason ${name} = ${v} outside ${SHARED}exit-reasons.ts`);
    else if (v !== undefined && fieldEncodings.has(v) && /VMCS|FIELD|ENC/.test(name) && /^\s*0x[0-9a-f]{4}\s*$/i.test(init)) at(m.index!, `VMCS field encoding ${name} = ${init.trim()} outside ${SHARED}vmcs-fields.ts`);
  }
  // Number-keyed name tables: 48: 'EPT_VIOLATION', [48, 'EPT_VIOLATION'], case 48: return 'EPT_VIOLATION'
  for (const m of text.matchAll(/(?:\b(0x[0-9a-f]+|\d+)\s*[:,]\s*(?:return\s+)?|\[\s*(0x[0-9a-f]+|\d+)\s*,\s*)['"](#?[A-Z][A-Z0-9_]*)['"]/gi)) {
    const v = literalValue(m[1] ?? m[2]), name = m[3];
    if (v === undefined) continue;
    if (reasonAliases.get(name) === v || reasonByName.get(name) === v) at(m.index!, `exit-reason name table entry ${v}: '${name}'`);
    if (fieldByName.get(name) === v) at(m.index!, `VMCS field name table entry ${m[1] ?? m[2]}: '${name}'`);
    if (controlBitNames.has(`${v}:${name}`)) at(m.index!, `control-bit name table entry [${v}, '${name}']`);
    if (rflagsBitNames.has(`${v}:${name}`)) at(m.index!, `RFLAGS bit name table entry [${v}, '${name}']`);
    if (exceptionNames.has(`${v}:${name}`)) at(m.index!, `exception name table entry ${v}: '${name}'`);
  }
  for (const m of text.matchAll(/\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*,\s*(\d+)\s*\]/g)) {
    if (rflagsBitNames.has(`${m[2]}:${m[1]}`) || controlBitNames.has(`${m[2]}:${m[1]}`)) at(m.index!, `bit name table entry ['${m[1]}', ${m[2]}]`);
  }
  // An exit reason used by its number: reason === 52, exit !== 48, case 31: in a switch on a reason
  const basicReason = (n: string) => reasonNumbers.has(Number(n));
  for (const m of text.matchAll(/(?:\w*[rR]eason|\bexit)\)?\s*[!=]==?\s*(\d+)\b|\bexits\.get\(\s*(\d+)\s*\)|\bhandlerCost\([^,()]+,\s*(\d+)\s*\)/g)) {
    m[1] ??= m[2] ?? m[3];
    if (basicReason(m[1])) at(m.index!, `exit reason ${m[1]} by number (use EXIT_REASON_* from ${SHARED}exit-reasons.ts)`);
  }
  for (const m of text.matchAll(/switch\s*\([^)]*[rR]eason[^)]*\)\s*\{/g)) {
    let depth = 0, end = m.index! + m[0].length - 1;
    do depth += text[end] === '{' ? 1 : text[end] === '}' ? -1 : 0; while (depth > 0 && ++end < text.length);
    for (const c of text.slice(m.index!, end).matchAll(/\bcase\s+(\d+)\s*:/g)) {
      if (basicReason(c[1])) at(m.index! + c.index!, `exit reason ${c[1]} by number in a switch (use EXIT_REASON_*)`);
    }
  }
  // An MSR index by number in the CPU or the host (tests' guest code may say "mov ecx, 0xc0000082")
  if (!file.startsWith('test/')) {
    for (const m of text.matchAll(/\b0x[0-9a-f]{8}\b/gi)) {
      if (longModeMsrs.has(parseInt(m[0], 16))) at(m.index!, `MSR index ${m[0]} by number (use ${SHARED}msr-index.ts)`);
    }
  }
  // A second list of the general-purpose registers' names, or a table keyed by them
  for (const m of text.matchAll(/\[[^[\]]*\]|\{[^{}]*\}/g)) {
    const quoted = [...m[0].matchAll(/['"]([a-z0-9]+)['"]/g)].map((s) => s[1]);
    const keys = [...m[0].matchAll(/\b([a-z0-9]+)\s*:/g)].map((s) => s[1]);
    const names = new Set([...quoted, ...keys].filter((s) => GPR_SET.has(s)));
    if (names.size >= 8) at(m.index!, `a list of ${names.size} GPR names outside ${SHARED}regs.ts`);
  }
  return out;
}

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((n) => {
    const rel = `${dir}/${n}`;
    if (n.startsWith('.') || n === 'node_modules') return []; // caches (test/.cache holds a Xen tree)
    const st = lstatSync(join(ROOT, rel));
    if (st.isDirectory()) return tsFiles(rel);
    return st.isFile() && n.endsWith('.ts') && !n.endsWith('.d.ts') ? [rel] : [];
  });
}
const SCANNED = ['assembly', 'src', 'bench', 'test'].flatMap(tsFiles)
  .filter((f) => !f.startsWith(SHARED) && f !== 'test/boundary.test.ts');
const aliases = aliasNames(SCANNED.filter((f) => f.startsWith('assembly/')));

describe('one source of truth for VMX facts across the Wasm boundary (SDM Vol. 3C Appendix B, Appendix C, 25.6-25.8)', () => {
  it('the shared files export the facts the CPU and the host use', () => {
    expect(fieldByName.size).toBeGreaterThan(140);
    expect(reasonByName.get('EXIT_REASON_EPT_VIOLATION')).toBe(48);
    expect(fieldByName.get('GUEST_RIP')).toBe(0x681e);
    expect(GPR_NAMES).toHaveLength(16);
    // 64-bit facts must survive being read as TypeScript numbers.
    for (const mod of [FIELDS, REASONS, CONTROLS, LIMITS]) {
      for (const [name, v] of numbers(mod)) expect([name, Number.isSafeInteger(v) && v >= 0]).toEqual([name, true]);
    }
  });

  it('the scan finds copies of the kinds the tree used to have', () => {
    const old = [
      'export const EXIT_REASON_EPT_VIOLATION: u32 = 48;',
      'export const EXIT_REASON_PREEMPTION_TIMER = 52;',
      "export const EXIT_REASONS: Record<number, string> = {\n  48: 'EPT_VIOLATION', 49: 'EPT_MISCONFIG',\n};",
      'const EXIT = { CPUID: 10, HLT: 12, PREEMPTION_TIMER: 52 };',
      'const EPT_VIOLATION = 48, EPT_MISCONFIG = 49;',
      'export const VMCS_FIELDS = {\n  VIRTUAL_PROCESSOR_ID: 0x0000, GUEST_RIP: 0x681e,\n} as const;',
      'export const GUEST_RIP: u32 = 0x681e;',
      'const RIP_FIELD = 0x681e;',
      'const MAX_BREAKPOINTS = 64;',
      'const MAX_BREAKPOINTS = <i32>(BREAKPOINTS_BYTES >> 3);',
      'export const DEBUG_STOP: u32 = 0x7fff;',
      'export const CPU_BASED_RDTSC_EXITING = 1 << 12;',
      "export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi',\n  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;",
      "const GPRS = ['rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp', 'r8', 'r9'];",
      "const PIN_BITS: [number, string][] = [[0, 'EXT_INTR_MASK'], [6, 'PREEMPTION_TIMER']];",
      "if (reason === 52) { stop = 'limit'; }",
      'const GPR_INDEX = {\n  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,\n  r8: 8, r9: 9,\n};',
      'export const MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081;',
      "const MSR_REG = { shadow_gs: 0xc0000102, msr_lstar: 0xc0000082 };",
      'export const X86_EFLAGS_TF = 1n << 8n, X86_EFLAGS_IF = 1n << 9n;',
      "const FLAG_NAMES: [number, string][] = [[0, 'CF'], [2, 'PF'], [4, 'AF']];",
      "const EFLAGS_FIELDS: [string, number][] = [['CF', 0], ['', 1], ['PF', 2]];",
      'export const CR0_PG: u64 = 1 << 31;',
      "export const EXCEPTION_NAMES = { 0: '#DE', 1: '#DB', 14: '#PF' };",
      'export const UD = 6;',
      "return r.exit === 48 ? 'violation' : 'misconfiguration';",
      'const io = v.stats.exits.get(30)! + handlerCost(d.costs, 18);',
      'switch (x.reason & 0xffff) {\n  case 0: { break; }\n  case 31: decoded = "x"; break;\n}',
    ];
    for (const snippet of old) expect([snippet, findCopies('old.ts', snippet).length > 0]).toEqual([snippet, true]);
    const fine = [
      "import { EXIT_REASON_HLT as HLT } from '../assembly/shared/exit-reasons.js';",
      'export { VM_ENTRY_INTR_INFO_FIELD as VM_ENTRY_INTR_INFO } from "./shared/vmcs-fields";',
      "case F.GUEST_RIP: return 'x';",
      '// GUEST_RIP: 0x681e in a comment',
      "lines.push(row(['rax', 'rbx', 'rcx', 'rdx']));",
      'if (x === EXIT_REASON_HLT) return;',
      'export const VMCS_PRESENT_BYTES: usize = 8192;',
      'const GUEST_RIP = F.GUEST_RIP;',
      "const types = ['external interrupt', 'reserved', 'NMI'];",
      'switch (leaf) {\n  case 10: return 1;\n}',
      'if (reason === EXIT_REASON_HLT || reasons.length === 2) return;',
    ];
    for (const snippet of fine) expect([snippet, findCopies('new.ts', snippet)]).toEqual([snippet, []]);
  });

  it(`no name or value defined in ${SHARED} is defined again in assembly/, src/, bench/ or test/`, () => {
    expect(SCANNED.length).toBeGreaterThan(50);
    const copies = SCANNED.flatMap((f) => findCopies(f, readFileSync(join(ROOT, f), 'utf8')));
    expect(copies.map((c) => `${c.file}:${c.line}: ${c.what}`)).toEqual([]);
  });

  it(`src/ and bench/ import from assembly/ only ${SHARED} (and the op table, assembly/ops.ts)`, () => {
    const bad: string[] = [];
    for (const f of SCANNED.filter((s) => s.startsWith('src/') || s.startsWith('bench/'))) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.[^'"]+)['"]/g)) {
        const target = relative(ROOT, resolve(dirname(join(ROOT, f)), m[1])).replace(/\\/g, '/');
        if (target.startsWith('assembly/') && !target.startsWith(SHARED) && !/^assembly\/ops\.(js|ts)$/.test(target)) bad.push(`${f}: ${m[1]}`);
      }
    }
    expect(bad).toEqual([]);
  });
});

describe('the compiled CPU and the host agree at run time (SDM Vol. 3C Appendix B, Appendix C)', () => {
  it('VMREAD/VMWRITE know every shared field encoding, and the host names every field the CPU has', () => {
    const m = Machine.createSync({ memMiB: 1 });
    for (const [name, enc] of Object.entries(VMCS_FIELDS)) expect([name, m.vmfieldExists(enc)]).toEqual([name, true]);
    const unnamed: string[] = [];
    for (let enc = 0; enc <= 0x7fff; enc += 2) if (m.vmfieldExists(enc) && fieldName(enc) === undefined) unnamed.push(enc.toString(16));
    expect(unnamed).toEqual([]);
  });

  it.skipIf(!haveAssembler())('an exit the CPU raises is the shared reason, printed by the name `run --json` and the debugger use', () => {
    const g = new TestGuest();
    const C = CONTROLS;
    const cases: [string, number, string, number][] = [
      ['cpuid', C.CPU_BASED_HLT_EXITING, 'CPUID', REASONS.EXIT_REASON_CPUID],
      ['rdtsc', C.CPU_BASED_RDTSC_EXITING, 'RDTSC', REASONS.EXIT_REASON_RDTSC],
      ['mov dx, 0x3f8\nout dx, al', C.CPU_BASED_UNCOND_IO_EXITING, 'IO_INSTRUCTION', REASONS.EXIT_REASON_IO_INSTRUCTION],
      ['mov ecx, 0xc0000082\nrdmsr', C.CPU_BASED_HLT_EXITING, 'MSR_READ', REASONS.EXIT_REASON_MSR_READ],
      ['mov cr3, rax', C.CPU_BASED_CR3_LOAD_EXITING, 'CR_ACCESS', REASONS.EXIT_REASON_CR_ACCESS],
      ['hlt', C.CPU_BASED_HLT_EXITING, 'HLT', REASONS.EXIT_REASON_HLT],
    ];
    for (const [code, control, printed, reason] of cases) {
      g.kernelState(); g.kernel(`${code}\nhlt`);
      g.m.vmwrite('CPU_BASED_VM_EXEC_CONTROL', C.CPU_BASED_HLT_EXITING | control);
      const r = g.run();
      expect([code, r, exitReasonName(r)]).toEqual([code, reason, printed]);
    }
    g.kernelState(); g.kernel('jmp $');
    g.m.vmwrite('PIN_BASED_VM_EXEC_CONTROL', C.PIN_BASED_VMX_PREEMPTION_TIMER);
    g.m.vmwrite('VMX_PREEMPTION_TIMER_VALUE', 100);
    const r = g.run();
    expect([r, exitReasonName(r)]).toEqual([REASONS.EXIT_REASON_VMX_PREEMPTION_TIMER_EXPIRED, 'PREEMPTION_TIMER']);
  });
});
