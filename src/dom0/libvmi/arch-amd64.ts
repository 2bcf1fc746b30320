// LibVMI's amd64 architecture layer (libvmi/arch/amd64.c, v2p_ia32e): the
// IA-32e 4-level page walk (SDM Vol. 3A §4.5) done in software from
// guest-physical reads of the paging entries, as Dom0 does it: present bits
// only, no accessed/dirty updates, no permission checks (LibVMI reads what
// the guest mapped, whatever the guest may do with it). 4 KiB, 2 MiB and
// 1 GiB pages; 5-level paging is left out (the guests we run use 4 levels).
// core.ts's vmi_pagetable_lookup, vmi_translate_kv2p and vmi_translate_uv2p
// come here with the page-table root (kernel's or the process's).

/** The 4 KiB page of the walk and of LibVMI's page-by-page accesses. */
export const PAGE = 4096n;
/** Bits 51:12 of a paging entry (and of CR3): the next table's or the page's frame. */
export const PHYS_MASK = 0x000ffffffffff000n;
const PS = 0x80n, PRESENT = 1n;

/**
 * v2p_ia32e: `va` under the page-table root `dtb`, or undefined if it is not
 * mapped or not canonical. `readEntry` reads the 8-byte paging entry at a
 * guest-physical address (undefined if it cannot).
 */
export function v2p_ia32e(readEntry: (gpa: bigint) => bigint | undefined, dtb: bigint, va: bigint): bigint | undefined {
  va = BigInt.asUintN(64, va);
  const top = va >> 47n;
  if (top !== 0n && top !== 0x1ffffn) return undefined;
  let table = dtb & PHYS_MASK;
  for (let level = 4; level >= 1; level--) {
    const shift = BigInt(12 + 9 * (level - 1));
    const e = readEntry(table + ((va >> shift) & 511n) * 8n);
    if (e === undefined || (e & PRESENT) === 0n) return undefined;
    if (level === 3 && (e & PS)) return (e & 0x000fffffc0000000n) | (va & 0x3fffffffn);
    if (level === 2 && (e & PS)) return (e & 0x000fffffffe00000n) | (va & 0x1fffffn);
    if (level === 1) return (e & PHYS_MASK) | (va & 0xfffn);
    table = e & PHYS_MASK;
  }
  return undefined;
}
