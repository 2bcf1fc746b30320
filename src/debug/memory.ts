// Guest memory as the debugger sees it: linear addresses through the guest's
// page tables under the vCPU's CR3, guest-physical addresses through the EPT
// view the vCPU is on (so an altp2m view that remaps a page shows what the
// guest sees), machine addresses as they are. No side effects on the guest
// (no accessed/dirty bits); writes tell the CPU (decoded code is dropped).
import type { Machine } from '../machine.js';
import { SECONDARY_EXEC_ENABLE_EPT, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, EXIT_REASON_EPT_VIOLATION } from '../vmcs.js';
import { walkGuest, type PageWalk } from './walk.js';
import { hex } from '../util/format.js';

const PAGE = 4096n;

export type Space = 'linear' | 'physical' | 'machine';
export interface ReadResult { bytes: Uint8Array; /** Why the read stopped short of the length asked for. */ error?: string }

export class GuestMemory {
  constructor(private readonly m: Machine) {}

  /** The EPTP the vCPU runs on, or undefined when EPT is off (guest-physical = machine). */
  currentEptp(): bigint | undefined {
    const prim = Number(this.m.vmread('CPU_BASED_VM_EXEC_CONTROL'));
    const sec = prim & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ? Number(this.m.vmread('SECONDARY_VM_EXEC_CONTROL')) : 0;
    return sec & SECONDARY_EXEC_ENABLE_EPT ? this.m.vmread('EPT_POINTER') : undefined;
  }

  /** Machine address of guest-physical `gpa` for a read under `eptp` (default: the current view). */
  gpaToMachine(gpa: bigint, eptp = this.currentEptp()): { hpa: bigint } | { error: string } {
    if (eptp === undefined) return gpa < BigInt(this.m.memBytes) ? { hpa: gpa } : { error: 'outside machine memory' };
    const r = this.m.eptWalk(eptp, gpa, 0);
    if ('hpa' in r) return { hpa: r.hpa };
    return { error: r.exit === EXIT_REASON_EPT_VIOLATION ? `EPT violation (not readable in this view, qualification ${hex(r.qualification)})` : 'EPT misconfiguration' };
  }

  /** The guest's page walk of `la` under its current CR3. */
  walk(la: bigint, cr3 = this.m.vmread('GUEST_CR3')): PageWalk {
    const eptp = this.currentEptp();
    return walkGuest(this.m, cr3, la, (gpa) => this.gpaToMachine(gpa, eptp));
  }

  linearToGpa(la: bigint): { gpa: bigint } | { error: string } {
    const w = this.walk(la);
    return w.gpa !== undefined ? { gpa: w.gpa } : { error: w.fault ?? 'not mapped' };
  }

  /** Reads `len` bytes; on a fault, the readable prefix and the reason. */
  read(space: Space, addr: bigint, len: number): ReadResult {
    const out = new Uint8Array(len);
    let off = 0;
    while (off < len) {
      const a = BigInt.asUintN(64, addr + BigInt(off));
      const n = Math.min(len - off, Number(PAGE - (a & (PAGE - 1n))));
      const ma = this.machineOf(space, a);
      if ('error' in ma) return { bytes: out.slice(0, off), error: `cannot read ${hex(a)}: ${ma.error}` };
      if (ma.hpa + BigInt(n) > BigInt(this.m.memBytes)) return { bytes: out.slice(0, off), error: `cannot read ${hex(a)}: outside machine memory` };
      out.set(this.m.readPhys(Number(ma.hpa), n), off);
      off += n;
    }
    return { bytes: out };
  }

  /** Writes bytes; returns an error message (nothing written from the faulting page on) or undefined. */
  write(space: Space, addr: bigint, data: Uint8Array): string | undefined {
    // Translate every page first, so that a fault writes nothing.
    const pieces: { hpa: bigint; off: number; n: number }[] = [];
    for (let off = 0; off < data.length;) {
      const a = BigInt.asUintN(64, addr + BigInt(off));
      const n = Math.min(data.length - off, Number(PAGE - (a & (PAGE - 1n))));
      const ma = this.machineOf(space, a);
      if ('error' in ma) return `cannot write ${hex(a)}: ${ma.error}`;
      if (ma.hpa + BigInt(n) > BigInt(this.m.memBytes)) return `cannot write ${hex(a)}: outside machine memory`;
      pieces.push({ hpa: ma.hpa, off, n });
      off += n;
    }
    for (const p of pieces) this.m.writePhys(Number(p.hpa), data.subarray(p.off, p.off + p.n));
    return undefined;
  }

  private machineOf(space: Space, a: bigint): { hpa: bigint } | { error: string } {
    if (space === 'machine') return { hpa: a };
    let gpa = a;
    if (space === 'linear') {
      const t = this.linearToGpa(a);
      if ('error' in t) return t;
      gpa = t.gpa;
    }
    return this.gpaToMachine(gpa);
  }
}
