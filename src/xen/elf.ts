// ELF64 images for the boot protocol (firmware/README.md): validation with
// one-line errors that name the file and the field at fault.
import { bytesHex, hexWide as hx } from '../util/format.js';

export class ImageError extends Error {
  constructor(readonly file: string, readonly detail: string) {
    super(`${file}: ${detail}`);
    this.name = 'ImageError';
  }
}

export const PT_LOAD = 1, PT_DYNAMIC = 2, PT_INTERP = 3;
export const PF_X = 1, PF_W = 2, PF_R = 4;
const EHDR_SIZE = 64, PHDR_SIZE = 56;
const ET_NAMES: Record<number, string> = { 0: 'ET_NONE', 1: 'ET_REL', 2: 'ET_EXEC', 3: 'ET_DYN', 4: 'ET_CORE' };
const EM_NAMES: Record<number, string> = {
  0: 'EM_NONE', 3: 'EM_386', 8: 'EM_MIPS', 20: 'EM_PPC', 21: 'EM_PPC64', 40: 'EM_ARM', 62: 'EM_X86_64',
  183: 'EM_AARCH64', 243: 'EM_RISCV',
};
const PT_NAMES: Record<number, string> = { 0: 'PT_NULL', 1: 'PT_LOAD', 2: 'PT_DYNAMIC', 3: 'PT_INTERP', 4: 'PT_NOTE', 6: 'PT_PHDR', 7: 'PT_TLS' };

export interface ElfSegment {
  index: number;
  type: number;
  flags: number;
  offset: bigint;
  vaddr: bigint;
  paddr: bigint;
  filesz: bigint;
  memsz: bigint;
}

export interface ElfImage {
  file: string;
  bytes: Uint8Array;
  entry: bigint;
  /** The PT_LOAD segments with memsz > 0, in program-header order. */
  loads: ElfSegment[];
}

const segName = (s: ElfSegment) => `segment ${s.index} (${PT_NAMES[s.type] ?? `type ${hx(s.type)}`})`;

/** Parses and validates an ELF64 x86-64 executable; throws ImageError naming the first problem. */
export function parseElf64(bytes: Uint8Array, file: string): ElfImage {
  const fail = (msg: string): never => { throw new ImageError(file, msg); };
  const size = bytes.length;
  if (size === 0) fail('empty file: not an ELF image');
  const magic = bytes.subarray(0, 4);
  if (size < 4 || magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) {
    fail(`not an ELF file: e_ident magic is ${bytesHex(magic)}, expected 7f 45 4c 46`);
  }
  if (size < EHDR_SIZE) fail(`truncated ELF header: the file has ${size} bytes, an ELF64 header needs ${EHDR_SIZE}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cls = bytes[4], data = bytes[5], ver = bytes[6];
  if (cls !== 2) fail(`e_ident[EI_CLASS] is ${cls}${cls === 1 ? ' (ELFCLASS32)' : ''}: a 64-bit image (ELFCLASS64) is required`);
  if (data !== 1) fail(`e_ident[EI_DATA] is ${data}${data === 2 ? ' (big-endian)' : ''}: little-endian (ELFDATA2LSB) is required`);
  if (ver !== 1) fail(`e_ident[EI_VERSION] is ${ver}: EV_CURRENT (1) is required`);
  const type = dv.getUint16(16, true), machine = dv.getUint16(18, true), version = dv.getUint32(20, true);
  if (type !== 2) fail(`e_type is ${type} (${ET_NAMES[type] ?? 'unknown'}): an executable (ET_EXEC) is required`);
  if (machine !== 62) fail(`e_machine is ${machine} (${EM_NAMES[machine] ?? 'unknown'}): x86-64 (EM_X86_64, 62) is required`);
  if (version !== 1) fail(`e_version is ${version}: EV_CURRENT (1) is required`);
  const entry = dv.getBigUint64(24, true);
  const phoff = dv.getBigUint64(32, true);
  const ehsize = dv.getUint16(52, true), phentsize = dv.getUint16(54, true), phnum = dv.getUint16(56, true);
  if (ehsize !== EHDR_SIZE) fail(`e_ehsize is ${ehsize}: an ELF64 header is ${EHDR_SIZE} bytes`);
  if (phnum === 0) fail('e_phnum is 0: the image has no program headers');
  if (phnum === 0xffff) fail('e_phnum is 0xffff (PN_XNUM): extended program-header numbering is not supported');
  if (phentsize !== PHDR_SIZE) fail(`e_phentsize is ${phentsize}: ELF64 program headers are ${PHDR_SIZE} bytes`);
  const phend = phoff + BigInt(phnum * PHDR_SIZE);
  if (phend > BigInt(size)) {
    fail(`program headers truncated: e_phoff ${hx(phoff)} + ${phnum} x ${PHDR_SIZE} bytes ends at ${hx(phend)}, past the end of the file (${size} bytes)`);
  }

  const loads: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = Number(phoff) + i * PHDR_SIZE;
    const s: ElfSegment = {
      index: i, type: dv.getUint32(o, true), flags: dv.getUint32(o + 4, true), offset: dv.getBigUint64(o + 8, true),
      vaddr: dv.getBigUint64(o + 16, true), paddr: dv.getBigUint64(o + 24, true),
      filesz: dv.getBigUint64(o + 32, true), memsz: dv.getBigUint64(o + 40, true),
    };
    if (s.type === PT_INTERP || s.type === PT_DYNAMIC) fail(`${segName(s)}: dynamically linked images cannot boot (no loader in the guest)`);
    if (s.type !== PT_LOAD) continue;
    if (s.filesz > s.memsz) fail(`${segName(s)}: p_filesz ${hx(s.filesz)} exceeds p_memsz ${hx(s.memsz)}`);
    if (s.offset + s.filesz > BigInt(size)) {
      fail(`${segName(s)}: p_offset ${hx(s.offset)} + p_filesz ${hx(s.filesz)} ends at ${hx(s.offset + s.filesz)}, past the end of the file (${size} bytes)`);
    }
    if (s.paddr + s.memsz > 1n << 52n) fail(`${segName(s)}: p_paddr ${hx(s.paddr)} + p_memsz ${hx(s.memsz)} is beyond any physical address`);
    if (s.memsz > 0n) loads.push(s);
  }
  if (loads.length === 0) fail('no PT_LOAD segment with memory to load');
  for (let i = 0; i < loads.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = loads[j], b = loads[i];
      if (b.paddr < a.paddr + a.memsz && a.paddr < b.paddr + b.memsz) {
        fail(`${segName(b)} at p_paddr ${hx(b.paddr)}+${hx(b.memsz)} overlaps segment ${a.index} at ${hx(a.paddr)}+${hx(a.memsz)}`);
      }
    }
  }
  const home = loads.find((s) => entry >= s.paddr && entry < s.paddr + s.memsz);
  if (!home) fail(`e_entry ${hx(entry)} is outside the loaded segments (the boot protocol enters at a physical address, p_paddr space)`);
  if (!(home!.flags & PF_X)) fail(`e_entry ${hx(entry)} lies in ${segName(home!)}, which is not executable (p_flags ${hx(home!.flags)} lacks PF_X)`);
  return { file, bytes, entry, loads };
}
