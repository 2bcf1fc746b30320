// What Dom0 knows about a guest kernel without reading it: its System.map
// (kernel symbols, `nm -n` format) and a profile of structure offsets, the
// equivalent of a LibVMI config entry:
//
//   tvm { ostype = "Linux"; sysmap = "/boot/System.map"; linux_tasks = 0x20; linux_mm = 0x30; ... }
//
// as JSON:
//
//   { "ostype": "Linux", "sysmap": "System.map",
//     "linux_tasks": 32, "linux_mm": "0x30", "linux_pid": "0x48", "linux_pgd": 0,
//     "linux_name": "0xa0", "linux_parent": "0x58" }
//
// Keys: `ostype` (required; "Linux"), `sysmap` (a path, relative to the
// profile file), `name` (an optional label), `kpgd` (optional: the physical
// address of the kernel's top-level page table; otherwise vCPU 0's CR3 is
// used, as LibVMI does on a live guest), and any number of offsets: keys of
// lower-case letters, digits and underscores whose values are numbers or
// hex/decimal strings ("0x2a8", "680"). LibVMI's Linux keys are
// linux_tasks, linux_mm, linux_pid, linux_pgd and linux_name; we also use
// linux_parent, linux_state, linux_active_mm and linux_current_task (the
// per-CPU offset of the current-task pointer from the kernel GS base).
// Errors name the file and the field in one line.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export class ProfileError extends Error {}

export interface Profile {
  /** Where the profile came from (for messages). */
  readonly source: string;
  readonly ostype: 'Linux';
  readonly name?: string;
  /** Absolute path of the System.map, if the profile names one. */
  readonly sysmap?: string;
  /** Physical address of the kernel page-table root, if given. */
  readonly kpgd?: bigint;
  /** Structure offsets by LibVMI name (linux_tasks ...). */
  readonly offsets: ReadonlyMap<string, bigint>;
}

const OFFSET_KEY = /^[a-z][a-z0-9_]*$/;

function parseNumber(v: unknown, source: string, field: string): bigint {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    throw new ProfileError(`${source}: field "${field}" must be a non-negative integer, got ${v}`);
  }
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^0x[0-9a-f]+$/i.test(s) || /^[0-9]+$/.test(s)) return BigInt(s);
    throw new ProfileError(`${source}: field "${field}" must be a number or a hex string like "0x2a8", got "${v}"`);
  }
  throw new ProfileError(`${source}: field "${field}" must be a number or a hex string like "0x2a8", got ${JSON.stringify(v)}`);
}

/** Parses a profile from JSON text; `source` names it in errors, and relative sysmap paths resolve against its folder. */
export function parseProfile(text: string, source = '<profile>'): Profile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ProfileError(`${source}: not valid JSON (${(e as Error).message})`);
  }
  return profileFromObject(raw, source);
}

/** Validates an already-parsed profile object. */
export function profileFromObject(raw: unknown, source = '<profile>'): Profile {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProfileError(`${source}: a profile must be a JSON object like {"ostype": "Linux", "linux_tasks": "0x20", ...}`);
  }
  const obj = raw as Record<string, unknown>;
  if (!('ostype' in obj)) throw new ProfileError(`${source}: field "ostype" is missing (use "Linux")`);
  if (obj.ostype !== 'Linux') {
    throw new ProfileError(`${source}: field "ostype" must be "Linux", got ${JSON.stringify(obj.ostype)}`);
  }
  let sysmap: string | undefined;
  let name: string | undefined;
  let kpgd: bigint | undefined;
  const offsets = new Map<string, bigint>();
  for (const [key, value] of Object.entries(obj)) {
    switch (key) {
      case 'ostype': break;
      case 'sysmap':
        if (typeof value !== 'string' || value === '') {
          throw new ProfileError(`${source}: field "sysmap" must be a file path string, got ${JSON.stringify(value)}`);
        }
        sysmap = source.startsWith('<') ? value : resolve(dirname(source), value);
        break;
      case 'name':
        if (typeof value !== 'string') throw new ProfileError(`${source}: field "name" must be a string, got ${JSON.stringify(value)}`);
        name = value;
        break;
      case 'kpgd':
        kpgd = parseNumber(value, source, key);
        if (kpgd & 0xfffn) throw new ProfileError(`${source}: field "kpgd" must be 4 KiB aligned, got 0x${kpgd.toString(16)}`);
        break;
      default:
        if (!OFFSET_KEY.test(key)) {
          throw new ProfileError(`${source}: unknown field "${key}" (offset names are lower-case like "linux_tasks")`);
        }
        offsets.set(key, parseNumber(value, source, key));
    }
  }
  return { source, ostype: 'Linux', name, sysmap, kpgd, offsets };
}

/** Reads and parses a profile file. */
export function loadProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ProfileError(`${path}: cannot read the profile (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parseProfile(text, resolve(path));
}

/** A kernel symbol table from a System.map (`nm -n` output: `ffffffff81000000 T _start`). */
export class SymbolMap {
  private readonly byName = new Map<string, bigint>();
  private readonly byAddr = new Map<bigint, string>();
  private sorted: Array<[bigint, string]> | undefined;

  constructor(entries: Iterable<[string, bigint]> = []) {
    for (const [n, a] of entries) this.add(n, a);
  }

  private add(name: string, addr: bigint): void {
    if (!this.byName.has(name)) this.byName.set(name, addr);   // the first definition wins, as LibVMI's scan
    if (!this.byAddr.has(addr)) this.byAddr.set(addr, name);
    this.sorted = undefined;
  }

  /** Parses System.map text; `source` names the file in errors. Undefined symbols (`U`) are skipped. */
  static parse(text: string, source = '<System.map>'): SymbolMap {
    const map = new SymbolMap();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '' || line.startsWith('#')) continue;
      const f = line.split(/\s+/);
      if (f.length === 2 && /^[Uuvw]$/.test(f[0])) continue;   // `nm` prints undefined symbols without an address
      if (f.length < 3 || !/^[0-9a-fA-F]{1,16}$/.test(f[0]) || !/^[A-Za-z?-]$/.test(f[1])) {
        throw new ProfileError(`${source}:${i + 1}: expected "<hex address> <type> <name>", got "${line.slice(0, 80)}"`);
      }
      map.add(f[2], BigInt('0x' + f[0]));
    }
    return map;
  }

  static load(path: string): SymbolMap {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      throw new ProfileError(`${path}: cannot read the System.map (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    return SymbolMap.parse(text, path);
  }

  get size(): number { return this.byName.size; }
  lookup(name: string): bigint | undefined { return this.byName.get(name); }
  /** The symbol defined exactly at `addr` (LibVMI's vmi_translate_v2ksym). */
  nameAt(addr: bigint): string | undefined { return this.byAddr.get(addr); }
  /** The closest symbol at or below `addr`, with the offset into it. */
  nearest(addr: bigint): { name: string; offset: bigint } | undefined {
    if (!this.sorted) this.sorted = [...this.byAddr.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const s = this.sorted;
    let lo = 0, hi = s.length - 1, best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid][0] <= addr) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? undefined : { name: s[best][1], offset: addr - s[best][0] };
  }
}
