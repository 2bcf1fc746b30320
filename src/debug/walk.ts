// Entry-by-entry walks for the debugger, without side effects (no accessed or
// dirty bits set, no TLB fills): the EPT walk of a guest-physical address
// under any EPTP (SDM Vol. 3C 29.3.2, Tables 29-1..29-6), and the guest's
// 4-level walk of a linear address (SDM Vol. 3A 4.5, Tables 4-14..4-20) whose
// paging-structure reads go through EPT like the CPU's nested walk. Where the
// outcome matters (permissions, misconfigurations) the CPU's own probe
// (Machine.eptWalk) gives the verdict, so the two can never disagree.
import type { Machine } from '../machine.js';
import { hex, hexPad } from '../util/format.js';

const ADDR = 0x000ffffffffff000n;
const LEVEL_NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'];
const MEMTYPES: Record<number, string> = { 0: 'UC', 1: 'WC', 4: 'WT', 5: 'WP', 6: 'WB' };

export interface WalkStep {
  level: number;
  /** "PML4E", "PDPTE", "PDE", "PTE" (prefixed "EPT " in EPT walks). */
  name: string;
  index: number;
  /** Where the entry is: a machine address (EPT) or a guest-physical one (guest page tables). */
  entryAddr: bigint;
  entry: bigint;
  /** The entry's fields, decoded. */
  fields: string;
  present: boolean;
  /** Maps a page (large page or PTE) rather than the next table. */
  leaf: boolean;
  /** Page size when leaf. */
  pageSize?: '4K' | '2M' | '1G';
  /** A note (an unreadable entry, reserved bits). */
  note?: string;
}

export interface EptWalk {
  eptp: bigint;
  gpa: bigint;
  steps: WalkStep[];
  /** The host-physical (machine) address when the walk reached a leaf. */
  hpa?: bigint;
  /** The CPU's verdict for a read, a write and an instruction fetch. */
  access: { read: AccessVerdict; write: AccessVerdict; fetch: AccessVerdict };
}
export type AccessVerdict = { ok: true; hpa: bigint } | { ok: false; exit: 48 | 49; qualification: bigint };

/** The EPTP's fields (SDM Vol. 3C 25.6.11). */
export function describeEptp(eptp: bigint): string {
  const mt = Number(eptp & 7n), walk = Number((eptp >> 3n) & 7n) + 1, ad = (eptp >> 6n) & 1n;
  return `PML4 at ${hex(eptp & ADDR)}, memory type ${MEMTYPES[mt] ?? `reserved(${mt})`}, ${walk}-level walk${ad ? ', A/D flags on' : ''}`;
}

export function describeEptEntry(e: bigint, level: number): { fields: string; present: boolean; leaf: boolean } {
  const r = (e & 1n) !== 0n, w = (e & 2n) !== 0n, x = (e & 4n) !== 0n;
  const present = (e & 7n) !== 0n;
  const leaf = present && (level === 1 || ((level === 2 || level === 3) && (e & 0x80n) !== 0n));
  const parts = [`${r ? 'R' : '-'}${w ? 'W' : '-'}${x ? 'X' : '-'}`];
  if (!present) return { fields: 'not present', present, leaf };
  if (leaf) {
    const mt = Number((e >> 3n) & 7n);
    parts.push(`memtype ${MEMTYPES[mt] ?? `reserved(${mt})`}`);
    if (e & 0x40n) parts.push('ignore-PAT');
    if (level > 1) parts.push('large');
    if (e & 0x200n) parts.push('D');
  }
  if (e & 0x100n) parts.push('A');
  if (e & 0x400n) parts.push('XU');
  if (leaf && (e >> 63n) & 1n) parts.push('suppress-#VE');
  parts.push(`${leaf ? 'page' : 'table'} ${hex(e & ADDR & (leaf ? ~((1n << BigInt(12 + 9 * (level - 1))) - 1n) : ~0n))}`);
  return { fields: parts.join(' '), present, leaf };
}

/** Walks EPT under `eptp` for `gpa`, entry by entry, and asks the CPU for its read/write/fetch verdict. */
export function walkEpt(m: Machine, eptp: bigint, gpa: bigint): EptWalk {
  gpa = BigInt.asUintN(64, gpa);
  const steps: WalkStep[] = [];
  let table = eptp & ADDR;
  let hpa: bigint | undefined;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const index = Number((gpa >> shift) & 511n);
    const entryAddr = table + BigInt(index) * 8n;
    if (entryAddr + 8n > BigInt(m.memBytes)) {
      steps.push({ level, name: 'EPT ' + LEVEL_NAMES[level], index, entryAddr, entry: 0n, fields: '', present: false, leaf: false,
        note: `table address ${hex(table)} is outside machine memory` });
      break;
    }
    const entry = m.read64(Number(entryAddr));
    const d = describeEptEntry(entry, level);
    const pageSize = d.leaf ? (level === 3 ? '1G' : level === 2 ? '2M' : '4K') : undefined;
    steps.push({ level, name: 'EPT ' + LEVEL_NAMES[level], index, entryAddr, entry, fields: d.fields, present: d.present, leaf: d.leaf, pageSize });
    if (!d.present) break;
    if (d.leaf) {
      const mask = (1n << shift) - 1n;
      hpa = (entry & ADDR & ~mask) | (gpa & mask);
      break;
    }
    table = entry & ADDR;
  }
  const verdict = (kind: 0 | 1 | 2): AccessVerdict => {
    const r = m.eptWalk(eptp, gpa, kind);
    return 'hpa' in r ? { ok: true, hpa: r.hpa } : { ok: false, exit: r.exit, qualification: r.qualification };
  };
  return { eptp, gpa, steps, hpa, access: { read: verdict(0), write: verdict(1), fetch: verdict(2) } };
}

export interface PageWalk {
  cr3: bigint;
  la: bigint;
  steps: WalkStep[];
  /** The guest-physical address when the walk reached a present leaf. */
  gpa?: bigint;
  /** Why the walk stopped short (non-canonical address, a not-present entry, an EPT fault reading an entry). */
  fault?: string;
  /** Effective permissions of the whole walk (writable, user, executable), when it completed. */
  perms?: { write: boolean; user: boolean; exec: boolean };
}

export function describePte(e: bigint, level: number): { fields: string; present: boolean; leaf: boolean } {
  const present = (e & 1n) !== 0n;
  if (!present) return { fields: 'not present', present, leaf: false };
  const leaf = level === 1 || ((level === 2 || level === 3) && (e & 0x80n) !== 0n);
  const f: string[] = ['P', e & 2n ? 'RW' : 'RO', e & 4n ? 'US' : 'S'];
  if (e & 8n) f.push('PWT');
  if (e & 0x10n) f.push('PCD');
  if (e & 0x20n) f.push('A');
  if (leaf && e & 0x40n) f.push('D');
  if (level > 1 && leaf) f.push('PS');
  if (leaf && e & 0x100n) f.push('G');
  if (e >> 63n) f.push('XD');
  const mask = leaf ? (1n << BigInt(12 + 9 * (level - 1))) - 1n : 0xfffn;
  f.push(`${leaf ? 'page' : 'table'} ${hex(e & ADDR & ~mask)}`);
  return { fields: f.join(' '), present, leaf };
}

/**
 * The guest's walk of `la` under `cr3`; each entry's guest-physical address is
 * translated by `toMachine` (the EPT of the view the vCPU is on).
 */
export function walkGuest(m: Machine, cr3: bigint, la: bigint,
                          toMachine: (gpa: bigint) => { hpa: bigint } | { error: string }): PageWalk {
  la = BigInt.asUintN(64, la);
  const steps: WalkStep[] = [];
  const top = la >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return { cr3, la, steps, fault: `${hexPad(la)} is not canonical (bits 63:47 must be all 0 or all 1)` };
  let table = cr3 & ADDR;
  let write = true, user = true, exec = true;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const index = Number((la >> shift) & 511n);
    const entryGpa = table + BigInt(index) * 8n;
    const ma = toMachine(entryGpa);
    if ('error' in ma) {
      steps.push({ level, name: LEVEL_NAMES[level], index, entryAddr: entryGpa, entry: 0n, fields: '', present: false, leaf: false, note: ma.error });
      return { cr3, la, steps, fault: `cannot read the ${LEVEL_NAMES[level]} at guest-physical ${hex(entryGpa)}: ${ma.error}` };
    }
    const entry = m.read64(Number(ma.hpa));
    const d = describePte(entry, level);
    steps.push({ level, name: LEVEL_NAMES[level], index, entryAddr: entryGpa, entry, fields: d.fields, present: d.present, leaf: d.leaf,
      pageSize: d.leaf ? (level === 3 ? '1G' : level === 2 ? '2M' : '4K') : undefined });
    if (!d.present) return { cr3, la, steps, fault: `${LEVEL_NAMES[level]} not present` };
    write &&= (entry & 2n) !== 0n; user &&= (entry & 4n) !== 0n; exec &&= (entry >> 63n) === 0n;
    if (d.leaf) {
      const mask = (1n << shift) - 1n;
      return { cr3, la, steps, gpa: (entry & ADDR & ~mask) | (la & mask), perms: { write, user, exec } };
    }
    table = entry & ADDR;
  }
  return { cr3, la, steps, fault: 'walk did not end' };
}
