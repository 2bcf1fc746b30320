// The hypervisor's own walk of the guest's page tables (Xen's
// paging_gva_to_gfn -> guest_walk_tables for a HAP guest): guest-linear ->
// guest-physical under the vCPU's CR3, reading each paging-structure entry
// through the p2m. Hypercall arguments are read this way (copy_from_guest).
// 4-level paging only: the boot protocol and the CPU run in IA-32e mode.
import type { Domain } from './domain.js';

const PTE_P = 1n, PTE_W = 2n, PTE_PS = 0x80n;
const ADDR = 0x000ffffffffff000n;

/** Guest-physical address of `la` under `cr3`, or undefined (not present, not writable for a write, non-canonical). */
export function guestWalk(d: Domain, cr3: bigint, la: bigint, write = false): number | undefined {
  la = BigInt.asUintN(64, la);
  const top = la >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return undefined;
  let table = cr3 & ADDR;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const ma = d.gpaToMachine(Number(table + ((la >> shift) & 511n) * 8n));
    if (ma === undefined) return undefined;
    const e = d.machine.read64(ma);
    if (!(e & PTE_P)) return undefined;
    if (write && !(e & PTE_W)) return undefined;
    if (level === 1 || ((level === 2 || level === 3) && (e & PTE_PS))) {
      const mask = (1n << shift) - 1n;
      return Number(((e & ADDR) & ~mask) | (la & mask));
    }
    table = e & ADDR;
  }
  return undefined;
}
