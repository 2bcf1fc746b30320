// The boot protocol (firmware/README.md): PT_LOAD segments at their physical
// addresses, the loader's structures below 1 MiB (boot information, command
// line, GDT and TSS, identity page tables, a stack), an optional System.map
// after the image, and the initial 64-bit register state in the VMCS.
import type { Domain } from './domain.js';
import { ImageError, type ElfImage } from './elf.js';
import { PAGE_SIZE } from './frames.js';
import { X86_CR4_PAE, X86_CR4_VMXE } from '../../assembly/shared/x86-defns.js';
import { COM1 } from './domain.js';
import { EXIT_PORT } from './devices/debugexit.js';
import { hexWide as hx } from '../util/format.js';
import { GPR_NAMES } from '../machine.js';

export const BOOTINFO_MAGIC = 0x49424d56;   // "VMBI"
export const BOOTINFO_VERSION = 1;
export const BOOTINFO_SIZE = 0x78;
export const BOOTINFO_F_VMFUNC = 1 << 0;
export const BOOTINFO_F_VE = 1 << 1;

/** Guest-physical layout of the loader's area [0, LOADER_AREA_END). */
export const BOOT_INFO_GPA = 0x1000;
export const CMDLINE_GPA = 0x2000;
export const CMDLINE_MAX = 4095;
export const GDT_GPA = 0x3000;
export const TSS_GPA = 0x3800;
export const VE_INFO_GPA = 0x4000;
export const PML4_GPA = 0x10000;
export const PDPT_GPA = 0x11000;
export const PD_GPA = 0x12000;          // up to 4 page directories: identity map of the first 4 GiB
export const BOOT_STACK_TOP = 0x80000;
export const LOADER_AREA_END = 0x100000;

/** Selectors of the loader's GDT: null, 64-bit code, data, TSS. */
export const BOOT_CS = 0x08, BOOT_DS = 0x10, BOOT_TR = 0x18;
export const BOOT_CR0 = 0x80010033n;   // PG | WP | NE | ET | MP | PE
export const BOOT_EFER = 0x500n;       // LME | LMA

export interface BootOptions {
  cmdline?: string;
  /** System.map text to place after the image. */
  systemMap?: Uint8Array;
  /** BOOTINFO_F_* beyond what the domain implies (the mechanism issue sets VMFUNC). */
  flags?: number;
  eptpViews?: number;
}

export interface BootLayout {
  entry: bigint;
  bootInfoGpa: number;
  imageStart: number;
  imageEnd: number;
  sysmapGpa: number;
  sysmapLen: number;
  freeStart: number;
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

/** Places `img` in the domain's memory and sets the vCPU's initial state; throws ImageError if it does not fit. */
export function bootImage(d: Domain, img: ElfImage, opts: BootOptions = {}): BootLayout {
  const mem = BigInt(d.memBytes);
  const memText = `${d.memBytes / (1 << 20)} MiB`;
  for (const s of img.loads) {
    const name = `segment ${s.index} (PT_LOAD)`;
    if (s.paddr < BigInt(LOADER_AREA_END)) {
      throw new ImageError(img.file, `${name} at p_paddr ${hx(s.paddr)} overlaps the boot loader's area below ${hx(LOADER_AREA_END)} (the boot protocol loads at 1 MiB and above)`);
    }
    if (s.paddr + s.memsz > mem) {
      throw new ImageError(img.file, `${name} at p_paddr ${hx(s.paddr)}+${hx(s.memsz)} ends beyond the guest's ${memText} of memory (--mem)`);
    }
  }
  const cmd = new TextEncoder().encode(opts.cmdline ?? '');
  if (cmd.length > CMDLINE_MAX) throw new RangeError(`the command line is ${cmd.length} bytes; the boot protocol allows ${CMDLINE_MAX}`);
  if (cmd.includes(0)) throw new RangeError('the command line contains a NUL byte');

  const put = (gpa: number, data: Uint8Array) => {
    if (!d.writeGuestPhys(gpa, data)) throw new ImageError(img.file, `guest-physical ${hx(gpa)}+${hx(data.length)} is not backed by RAM`);
  };

  // The image.
  let imageStart = Number.MAX_SAFE_INTEGER, imageEnd = 0;
  for (const s of img.loads) {
    const paddr = Number(s.paddr), filesz = Number(s.filesz), memsz = Number(s.memsz);
    put(paddr, img.bytes.subarray(Number(s.offset), Number(s.offset) + filesz));
    if (memsz > filesz) put(paddr + filesz, new Uint8Array(memsz - filesz));
    imageStart = Math.min(imageStart, paddr);
    imageEnd = Math.max(imageEnd, paddr + memsz);
  }

  // System.map, page-aligned after the image.
  let sysmapGpa = 0, sysmapLen = 0, freeStart = alignUp(imageEnd, PAGE_SIZE);
  if (opts.systemMap && opts.systemMap.length) {
    sysmapGpa = freeStart;
    sysmapLen = opts.systemMap.length;
    if (sysmapGpa + sysmapLen > d.memBytes) {
      throw new ImageError(img.file, `System.map (${sysmapLen} bytes) does not fit in the guest's ${memText} after the image (ends at ${hx(imageEnd)})`);
    }
    put(sysmapGpa, opts.systemMap);
    freeStart = alignUp(sysmapGpa + sysmapLen, PAGE_SIZE);
  }

  // Command line, GDT + TSS, identity page tables (2 MiB pages over RAM, at most 4 GiB).
  put(CMDLINE_GPA, new Uint8Array([...cmd, 0]));
  const gdt = new DataView(new ArrayBuffer(40));
  gdt.setBigUint64(8, 0x00af9b000000ffffn, true);
  gdt.setBigUint64(16, 0x00cf93000000ffffn, true);
  const tss = BigInt(TSS_GPA);
  gdt.setBigUint64(24, 0x67n | ((tss & 0xffffffn) << 16n) | (0x89n << 40n) | (((tss >> 24n) & 0xffn) << 56n), true);
  gdt.setBigUint64(32, tss >> 32n, true);
  put(GDT_GPA, new Uint8Array(gdt.buffer));
  const tssBytes = new Uint8Array(104);
  new DataView(tssBytes.buffer).setUint16(102, 104, true);   // no I/O permission bitmap
  put(TSS_GPA, tssBytes);
  identityMap(d, put);

  // The boot information block.
  const bi = new DataView(new ArrayBuffer(BOOTINFO_SIZE));
  const flags = (opts.flags ?? 0) | (d.veEnabled ? BOOTINFO_F_VE : 0);
  bi.setUint32(0x00, BOOTINFO_MAGIC, true);
  bi.setUint32(0x04, BOOTINFO_VERSION, true);
  bi.setBigUint64(0x08, mem, true);
  bi.setBigUint64(0x10, BigInt(CMDLINE_GPA), true);
  bi.setUint32(0x18, cmd.length, true);
  bi.setUint32(0x1c, flags, true);
  bi.setBigUint64(0x20, BigInt(sysmapGpa), true);
  bi.setBigUint64(0x28, BigInt(sysmapLen), true);
  bi.setBigUint64(0x30, BigInt(d.veInfoGpa), true);
  bi.setUint32(0x38, d.vcpus[0].timer?.vector ?? 0, true);
  bi.setUint32(0x3c, opts.eptpViews ?? 0, true);
  bi.setBigUint64(0x40, d.vcpus[0].timer?.period ?? 0n, true);
  bi.setBigUint64(0x48, BigInt(d.tscKhz), true);
  bi.setBigUint64(0x50, BigInt(imageStart), true);
  bi.setBigUint64(0x58, BigInt(imageEnd), true);
  bi.setBigUint64(0x60, BigInt(freeStart), true);
  bi.setUint32(0x68, d.id, true);
  bi.setUint32(0x6c, d.vcpus[0].id, true);   // the boot vCPU
  bi.setUint32(0x70, COM1, true);
  bi.setUint32(0x74, EXIT_PORT, true);
  put(BOOT_INFO_GPA, new Uint8Array(bi.buffer));

  setInitialState(d, img.entry, { cs: BOOT_CS, ds: BOOT_DS, tr: BOOT_TR, gdtLimit: 39, bootReg: 'rdi', bootArg: BOOT_INFO_GPA });
  return { entry: img.entry, bootInfoGpa: BOOT_INFO_GPA, imageStart, imageEnd, sysmapGpa, sysmapLen, freeStart };
}


/** Identity page tables at PML4_GPA: 2 MiB pages over RAM, at most 4 GiB (both boot protocols). */
export function identityMap(d: Domain, put: (gpa: number, data: Uint8Array) => void): void {
  const mapped = Math.min(alignUp(d.memBytes, 2 << 20), 4 * 2 ** 30);
  const nPd = Math.ceil(mapped / 2 ** 30);
  const pml4 = new DataView(new ArrayBuffer(PAGE_SIZE)), pdpt = new DataView(new ArrayBuffer(PAGE_SIZE));
  pml4.setBigUint64(0, BigInt(PDPT_GPA) | 3n, true);
  for (let i = 0; i < nPd; i++) {
    pdpt.setBigUint64(i * 8, BigInt(PD_GPA + i * PAGE_SIZE) | 3n, true);
    const pd = new DataView(new ArrayBuffer(PAGE_SIZE));
    for (let j = 0; j < 512; j++) {
      const pa = i * 2 ** 30 + j * (2 << 20);
      if (pa >= mapped) break;
      pd.setBigUint64(j * 8, BigInt(pa) | 0x83n, true);   // present, writable, 2 MiB
    }
    put(PD_GPA + i * PAGE_SIZE, new Uint8Array(pd.buffer));
  }
  put(PML4_GPA, new Uint8Array(pml4.buffer));
  put(PDPT_GPA, new Uint8Array(pdpt.buffer));
}

/** Segment selectors, GDT limit and the register that carries the boot structure's address. */
export interface EntryState { cs: number; ds: number; tr: number; gdtLimit: number; bootReg: 'rdi' | 'rsi'; bootArg: number }

/** The protocol's initial register state: 64-bit mode, the loader's GDT and page tables, the boot structure in a register. */
export function setInitialState(d: Domain, entry: bigint, st: EntryState): void {
  const m = d.machine;
  const w = (f: string, v: bigint | number) => m.vmwrite(f, v);
  w('GUEST_CR0', BOOT_CR0);
  w('GUEST_CR3', PML4_GPA);
  w('GUEST_CR4', X86_CR4_PAE | X86_CR4_VMXE);
  w('CR4_READ_SHADOW', X86_CR4_PAE);
  w('CR0_READ_SHADOW', BOOT_CR0);
  w('GUEST_IA32_EFER', BOOT_EFER);
  w('GUEST_IA32_PAT', 0x0007040600070406n);
  const seg = (s: string, sel: number, ar: number, base = 0, limit = 0xffffffff) => {
    w(`GUEST_${s}_SELECTOR`, sel); w(`GUEST_${s}_AR_BYTES`, ar); w(`GUEST_${s}_BASE`, base); w(`GUEST_${s}_LIMIT`, limit);
  };
  seg('CS', st.cs, 0xa09b);
  for (const s of ['SS', 'DS', 'ES']) seg(s, st.ds, 0xc093);
  seg('FS', 0, 0x10000); seg('GS', 0, 0x10000);
  seg('LDTR', 0, 0x10000, 0, 0);
  seg('TR', st.tr, 0x8b, TSS_GPA, 0x67);
  w('GUEST_GDTR_BASE', GDT_GPA); w('GUEST_GDTR_LIMIT', st.gdtLimit);
  w('GUEST_IDTR_BASE', 0); w('GUEST_IDTR_LIMIT', 0);
  w('GUEST_DR7', 0x400);
  w('GUEST_RIP', entry);
  w('GUEST_RSP', BOOT_STACK_TOP);
  w('GUEST_RFLAGS', 0x2);
  w('GUEST_INTERRUPTIBILITY_INFO', 0);
  w('GUEST_ACTIVITY_STATE', 0);
  w('GUEST_SYSENTER_CS', 0); w('GUEST_SYSENTER_ESP', 0); w('GUEST_SYSENTER_EIP', 0);
  for (const r of GPR_NAMES) if (r !== 'rsp') m.setGpr(r, 0); // RSP lives in the VMCS
  m.setGpr(st.bootReg, st.bootArg);
}
