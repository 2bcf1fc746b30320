// Host-side walk of an EPT hierarchy (SDM Vol. 3C 29.3.2): every leaf with the guest-physical
// range it maps, and every table frame, for the isolation tests' "maps only frames the domain
// owns" checks.
import type { Machine } from '../../src/machine.js';

const ADDR = 0x000ffffffffff000n;

export interface EptLeaf { gpa: bigint; size: bigint; entry: bigint; frame: bigint; level: number }

/** Leaves (present or not, with a frame or not) of the hierarchy at `root`; non-leaf entries are followed when present. */
export function eptLeaves(m: Machine, root: number, tables?: number[]): EptLeaf[] {
  const out: EptLeaf[] = [];
  const walk = (table: number, level: number, base: bigint) => {
    tables?.push(table);
    for (let i = 0; i < 512; i++) {
      const e = m.read64(table + i * 8);
      const gpa = base + (BigInt(i) << BigInt(12 + 9 * (level - 1)));
      const size = 1n << BigInt(12 + 9 * (level - 1));
      const present = (e & 7n) !== 0n;
      if (level > 1 && present && !(level <= 3 && (e & 0x80n))) { walk(Number(e & ADDR), level - 1, gpa); continue; }
      if (level > 1 && !present) { if (e & ADDR) out.push({ gpa, size, entry: e, frame: e & ADDR, level }); continue; }
      out.push({ gpa, size, entry: e, frame: e & ADDR, level });
    }
  };
  walk(root, 4, 0n);
  return out;
}
