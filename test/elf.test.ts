// Malformed images: each corruption of the bundled TVM image gets its own
// one-line error naming the file and the field at fault (src/xen/elf.ts,
// src/xen/boot.ts).
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runImage, defaultImagePath } from '../src/run.js';
import { parseElf64, ImageError } from '../src/xen/elf.js';

const good = new Uint8Array(readFileSync(defaultImagePath()));
const dir = mkdtempSync(join(tmpdir(), 'vmvmi-elf-'));

const L = parseElf64(good, 'tvm.elf').loads;
const hx = (v: bigint | number) => '0x' + BigInt(v).toString(16);
const re = (s: string) => new RegExp(s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));

type Corruption = (b: Uint8Array, dv: DataView) => Uint8Array | void;
const PH = (i: number) => 64 + i * 56;   // program header i of the TVM image

const corpus: [string, Corruption, RegExp][] = [
  ['empty file', () => new Uint8Array(0), /empty file: not an ELF image/],
  ['bad magic', (b) => { b[1] = 0x58; }, /not an ELF file: e_ident magic is 7f 58 4c 46, expected 7f 45 4c 46/],
  ['a PE file', () => new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 3, 0, 0, 0]), /not an ELF file: e_ident magic is 4d 5a 90 00/],
  ['truncated ELF header', (b) => b.slice(0, 40), /truncated ELF header: the file has 40 bytes, an ELF64 header needs 64/],
  ['ELFCLASS32', (b) => { b[4] = 1; }, /e_ident\[EI_CLASS\] is 1 \(ELFCLASS32\): a 64-bit image \(ELFCLASS64\) is required/],
  ['big-endian', (b) => { b[5] = 2; }, /e_ident\[EI_DATA\] is 2 \(big-endian\): little-endian \(ELFDATA2LSB\) is required/],
  ['EI_VERSION 0', (b) => { b[6] = 0; }, /e_ident\[EI_VERSION\] is 0: EV_CURRENT \(1\) is required/],
  ['ET_DYN', (_b, dv) => { dv.setUint16(16, 3, true); }, /e_type is 3 \(ET_DYN\): an executable \(ET_EXEC\) is required/],
  ['ET_REL', (_b, dv) => { dv.setUint16(16, 1, true); }, /e_type is 1 \(ET_REL\)/],
  ['AArch64', (_b, dv) => { dv.setUint16(18, 183, true); }, /e_machine is 183 \(EM_AARCH64\): x86-64 \(EM_X86_64, 62\) is required/],
  ['e_version 0', (_b, dv) => { dv.setUint32(20, 0, true); }, /e_version is 0: EV_CURRENT \(1\) is required/],
  ['e_ehsize', (_b, dv) => { dv.setUint16(52, 52, true); }, /e_ehsize is 52: an ELF64 header is 64 bytes/],
  ['e_phentsize', (_b, dv) => { dv.setUint16(54, 32, true); }, /e_phentsize is 32: ELF64 program headers are 56 bytes/],
  ['no program headers', (_b, dv) => { dv.setUint16(56, 0, true); }, /e_phnum is 0: the image has no program headers/],
  ['program headers cut off', (b) => b.slice(0, 150), /program headers truncated: e_phoff 0x40 \+ 3 x 56 bytes ends at 0xe8, past the end of the file \(150 bytes\)/],
  ['e_phoff beyond the file', (_b, dv) => { dv.setBigUint64(32, 0x7fffffffn, true); }, /program headers truncated: e_phoff 0x7fffffff/],
  ['segment beyond the file', (_b, dv) => { dv.setBigUint64(PH(1) + 8, 0x100000n, true); }, /segment 1 \(PT_LOAD\): p_offset 0x100000 \+ p_filesz 0x[0-9a-f]+ ends at 0x[0-9a-f]+, past the end of the file/],
  ['file cut inside a segment', (b) => b.slice(0, Number(L[1].offset) + 0x1000), re(`segment 1 (PT_LOAD): p_offset ${hx(L[1].offset)} + p_filesz ${hx(L[1].filesz)} ends at ${hx(L[1].offset + L[1].filesz)}, past the end of the file (${Number(L[1].offset) + 0x1000} bytes)`)],
  ['p_filesz > p_memsz', (_b, dv) => { dv.setBigUint64(PH(2) + 40, 0x10n, true); }, re(`segment 2 (PT_LOAD): p_filesz ${hx(L[2].filesz)} exceeds p_memsz 0x10`)],
  ['dynamically linked', (_b, dv) => { dv.setUint32(PH(0), 3, true); }, /segment 0 \(PT_INTERP\): dynamically linked images cannot boot/],
  ['no PT_LOAD', (_b, dv) => { for (let i = 0; i < 3; i++) dv.setUint32(PH(i), 4, true); }, /no PT_LOAD segment with memory to load/],
  ['overlapping segments', (_b, dv) => { dv.setBigUint64(PH(1) + 24, L[0].paddr + L[0].memsz - 0x1000n, true); },
    re(`segment 1 (PT_LOAD) at p_paddr ${hx(L[0].paddr + L[0].memsz - 0x1000n)}+${hx(L[1].memsz)} overlaps segment 0 at ${hx(L[0].paddr)}+${hx(L[0].memsz)}`)],
  ['entry outside the segments', (_b, dv) => { dv.setBigUint64(24, 0x5000000n, true); }, /e_entry 0x5000000 is outside the loaded segments/],
  ['entry at the virtual address', (_b, dv) => { dv.setBigUint64(24, L[1].vaddr, true); }, re(`e_entry ${hx(L[1].vaddr)} is outside the loaded segments (the boot protocol enters at a physical address`)],
  ['entry in a data segment', (_b, dv) => { dv.setBigUint64(24, L[2].paddr, true); }, re(`e_entry ${hx(L[2].paddr)} lies in segment 2 (PT_LOAD), which is not executable (p_flags 0x6 lacks PF_X)`)],
  ['segment beyond guest memory', (_b, dv) => { dv.setBigUint64(PH(2) + 24, 0x7f00000n, true); }, /segment 2 \(PT_LOAD\) at p_paddr 0x7f00000\+0x[0-9a-f]+ ends beyond the guest's 64 MiB of memory \(--mem\)/],
  ['segment in the loader area', (_b, dv) => { dv.setBigUint64(PH(0) + 24, 0x8000n, true); dv.setBigUint64(24, 0x8000n, true); }, /segment 0 \(PT_LOAD\) at p_paddr 0x8000 overlaps the boot loader's area below 0x100000/],
];

describe('malformed ELF images', () => {
  it('the good image passes', () => {
    const img = parseElf64(good, 'tvm.elf');
    expect(img.entry).toBe(0x100000n);
    expect(img.loads.length).toBe(3);                       // boot stub, text (R X), data (RW)
    expect(img.loads.map((s) => s.flags)).toEqual([7, 5, 6]);
    expect(img.loads[0].paddr).toBe(0x100000n);
  });

  it.each(corpus)('%s', (name, corrupt, expected) => {
    const copy = good.slice();
    const out = corrupt(copy, new DataView(copy.buffer)) ?? copy;
    const file = join(dir, name.replace(/\W+/g, '-') + '.elf');
    writeFileSync(file, out);
    let err: unknown;
    try { runImage({ image: file, systemMap: false, maxInsns: 1000n }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ImageError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`${file}: `)).toBe(true);
    expect(msg).toMatch(expected);
    expect(msg).not.toContain('\n');
  });
});
