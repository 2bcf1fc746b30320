// Builds minimal ELF64 x86-64 executables for boot-protocol tests: one
// PT_LOAD per segment, the whole file loaded from offset 0 of each segment's
// data, e_entry a physical address (firmware/README.md).
export interface SegmentSpec { paddr: number; data: Uint8Array; memsz?: number; flags?: number; vaddr?: bigint }

export function makeElf(entry: number | bigint, segments: SegmentSpec[]): Uint8Array {
  const phoff = 64, phnum = segments.length;
  let off = phoff + phnum * 56;
  off = Math.ceil(off / 16) * 16;
  const offsets = segments.map((s) => { const o = off; off += s.data.length; return o; });
  const out = new Uint8Array(off);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  dv.setUint16(16, 2, true);         // ET_EXEC
  dv.setUint16(18, 62, true);        // EM_X86_64
  dv.setUint32(20, 1, true);
  dv.setBigUint64(24, BigInt(entry), true);
  dv.setBigUint64(32, BigInt(phoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, phnum, true);
  segments.forEach((s, i) => {
    const p = phoff + i * 56;
    dv.setUint32(p, 1, true);                          // PT_LOAD
    dv.setUint32(p + 4, s.flags ?? 7, true);           // RWX
    dv.setBigUint64(p + 8, BigInt(offsets[i]), true);
    dv.setBigUint64(p + 16, s.vaddr ?? BigInt(s.paddr), true);
    dv.setBigUint64(p + 24, BigInt(s.paddr), true);
    dv.setBigUint64(p + 32, BigInt(s.data.length), true);
    dv.setBigUint64(p + 40, BigInt(s.memsz ?? s.data.length), true);
    dv.setBigUint64(p + 48, 0x1000n, true);
    out.set(s.data, offsets[i]);
  });
  return out;
}
