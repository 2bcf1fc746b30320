// A minimal x86-64 byte emitter for the benches' hand-encoded guests (bench
// trigger, bench exits): bytes, labels, rel8/rel32 jumps fixed up at the end,
// and the one-segment ELF image src/xen/boot.ts loads (code at 1 MiB, the
// boot protocol's lowest load address). Encodings are the SDM Vol. 2's.
import type { ElfImage } from '../xen/elf.js';

/** Guest-physical address the benches' code is loaded and entered at. */
export const CODE_GPA = 0x100000;

/** Little-endian immediates. */
export const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];
export const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

export class Code {
  readonly b: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: { at: number; label: string; size: 1 | 4 }[] = [];
  emit(...bytes: number[]): this { this.b.push(...bytes); return this; }
  label(n: string): this { this.labels.set(n, this.b.length); return this; }
  j8(op: number, label: string): this { this.b.push(op, 0); this.fixups.push({ at: this.b.length - 1, label, size: 1 }); return this; }
  jmp32(label: string): this { this.b.push(0xe9, 0, 0, 0, 0); this.fixups.push({ at: this.b.length - 4, label, size: 4 }); return this; }
  imm32(v: number): number[] { return le32(v); }
  bytes(): Uint8Array {
    for (const f of this.fixups) {
      const rel = this.labels.get(f.label)! - (f.at + f.size);
      if (f.size === 1) { if (rel < -128 || rel > 127) throw new Error(`rel8 out of range to ${f.label}`); this.b[f.at] = rel & 0xff; }
      else this.imm32(rel).forEach((x, i) => { this.b[f.at + i] = x; });
    }
    return Uint8Array.from(this.b);
  }
}

/** `code` as a one-segment ELF image at CODE_GPA, entered at its first byte. */
export function codeImage(file: string, code: Uint8Array): ElfImage {
  const n = BigInt(code.length);
  return { file, bytes: code, entry: BigInt(CODE_GPA),
    loads: [{ index: 0, type: 1, flags: 7, offset: 0n, vaddr: BigInt(CODE_GPA), paddr: BigInt(CODE_GPA), filesz: n, memsz: n }] };
}
