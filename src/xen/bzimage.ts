// The Linux/x86 boot protocol, 64-bit entry (Linux Documentation/x86/boot.rst, "The Real-Mode
// Kernel Header", "64-bit Boot Protocol"; struct setup_header and struct boot_params in
// arch/x86/include/uapi/asm/bootparam.h, E820 in asm/e820/types.h): what a boot loader such as
// Xen's libxl direct kernel boot or QEMU's -kernel does -- load the protected-mode kernel of a
// bzImage, fill the zero page (boot_params) with the setup header, the e820 map, the command line
// and the initrd, and enter startup_64 (load address + 0x200) in long mode with RSI = boot_params,
// identity-mapped memory and a GDT whose __BOOT_CS is 0x10 and __BOOT_DS 0x18.
// We take the 64-bit entry only: 32-bit and real-mode entries need setup code this CPU never runs.
import { ImageError } from './elf.js';

// struct setup_header fields, as offsets into the bzImage file (= into boot_params).
const SETUP_SECTS = 0x1f1, BOOT_FLAG = 0x1fe, HDR_JUMP = 0x200, HEADER = 0x202, VERSION = 0x206;
const TYPE_OF_LOADER = 0x210, LOADFLAGS = 0x211, RAMDISK_IMAGE = 0x218, RAMDISK_SIZE = 0x21c;
const HEAP_END_PTR = 0x224, CMD_LINE_PTR = 0x228, INITRD_ADDR_MAX = 0x22c, KERNEL_ALIGNMENT = 0x230;
const RELOCATABLE = 0x234, XLOADFLAGS = 0x236, CMDLINE_SIZE = 0x238, PREF_ADDRESS = 0x258, INIT_SIZE = 0x260;
// struct boot_params (the zero page) beyond the header.
const BP_EXT_RAMDISK_IMAGE = 0x0c0, BP_EXT_RAMDISK_SIZE = 0x0c4, BP_EXT_CMD_LINE_PTR = 0x0c8;
const BP_E820_ENTRIES = 0x1e8, BP_E820_TABLE = 0x2d0, E820_MAX_ENTRIES_ZEROPAGE = 128;
export const BOOT_PARAMS_SIZE = 4096;

const HDRS_MAGIC = 0x53726448;        // "HdrS"
const LOADED_HIGH = 0x01, CAN_USE_HEAP = 0x80;
const XLF_KERNEL_64 = 0x01;
/** The boot protocol version that introduced xloadflags and the 64-bit entry's guarantees (2.12). */
export const MIN_BOOT_PROTOCOL = 0x020c;
export const E820_TYPE_RAM = 1, E820_TYPE_RESERVED = 2;
/** __BOOT_CS and __BOOT_DS (arch/x86/include/asm/segment.h: GDT_ENTRY_BOOT_CS = 2, DS = 3). */
export const LINUX_BOOT_CS = 0x10, LINUX_BOOT_DS = 0x18;

export interface BzImage {
  file: string;
  /** Boot protocol version (0x020f for 6.1). */
  version: number;
  /** The protected-mode kernel (everything after the setup sectors). */
  kernel: Uint8Array;
  /** The setup header bytes [0x1f1, end of header), copied into boot_params. */
  header: Uint8Array;
  prefAddress: bigint;
  kernelAlignment: number;
  relocatable: boolean;
  /** Bytes of memory the kernel needs from its load address while it decompresses and starts. */
  initSize: number;
  initrdAddrMax: number;
  cmdlineSize: number;
}

export interface E820Entry { addr: number; size: number; type: number }

/** Whether `bytes` start like a bzImage (the "HdrS" signature of the setup header). */
export function isBzImage(bytes: Uint8Array): boolean {
  return bytes.length >= HEADER + 4 && bytes[HEADER] === 0x48 && bytes[HEADER + 1] === 0x64 && bytes[HEADER + 2] === 0x72 && bytes[HEADER + 3] === 0x53;
}

/** Parses a bzImage; errors name the file and the header field at fault. */
export function parseBzImage(bytes: Uint8Array, file: string): BzImage {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const field = (name: string, off: number, msg: string) => new ImageError(file, `setup header ${name} (offset ${'0x' + off.toString(16)}): ${msg}`);
  if (bytes.length < 0x264) throw new ImageError(file, `${bytes.length} bytes: too short for a bzImage setup header (Documentation/x86/boot.rst)`);
  if (dv.getUint32(HEADER, true) !== HDRS_MAGIC) throw field('header', HEADER, 'no "HdrS" signature: not a Linux bzImage');
  if (dv.getUint16(BOOT_FLAG, true) !== 0xaa55) throw field('boot_flag', BOOT_FLAG, 'not 0xAA55');
  const version = dv.getUint16(VERSION, true);
  if (version < MIN_BOOT_PROTOCOL) {
    throw field('version', VERSION, `boot protocol ${(version >> 8)}.${version & 0xff}; the 64-bit entry needs 2.12 or later`);
  }
  if ((dv.getUint16(XLOADFLAGS, true) & XLF_KERNEL_64) === 0) throw field('xloadflags', XLOADFLAGS, 'XLF_KERNEL_64 clear: the kernel has no 64-bit entry point');
  if ((dv.getUint8(LOADFLAGS) & LOADED_HIGH) === 0) throw field('loadflags', LOADFLAGS, 'LOADED_HIGH clear: not a bzImage (zImage is not supported)');
  const setupSects = dv.getUint8(SETUP_SECTS) || 4;
  const kernelOff = (setupSects + 1) * 512;
  if (kernelOff >= bytes.length) throw field('setup_sects', SETUP_SECTS, `${setupSects} setup sectors leave no protected-mode kernel in ${bytes.length} bytes`);
  const hdrEnd = HDR_JUMP + 2 + dv.getUint8(HDR_JUMP + 1);   // the jump at 0x200 skips the header
  const initSize = dv.getUint32(INIT_SIZE, true);
  if (initSize === 0) throw field('init_size', INIT_SIZE, 'zero');
  return {
    file, version,
    kernel: bytes.subarray(kernelOff),
    header: bytes.slice(SETUP_SECTS, Math.min(hdrEnd, bytes.length)),
    prefAddress: dv.getBigUint64(PREF_ADDRESS, true),
    kernelAlignment: dv.getUint32(KERNEL_ALIGNMENT, true),
    relocatable: dv.getUint8(RELOCATABLE) !== 0,
    initSize,
    initrdAddrMax: dv.getUint32(INITRD_ADDR_MAX, true),
    cmdlineSize: dv.getUint32(CMDLINE_SIZE, true),
  };
}

export interface ZeroPageInput {
  cmdlineGpa: number;
  initrdGpa?: number;
  initrdSize?: number;
  e820: readonly E820Entry[];
}

/** The boot_params page a boot loader hands to startup_64 (boot.rst "Details of Header Fields"). */
export function buildZeroPage(img: BzImage, z: ZeroPageInput): Uint8Array {
  const page = new Uint8Array(BOOT_PARAMS_SIZE);
  const dv = new DataView(page.buffer);
  page.set(img.header, SETUP_SECTS);
  dv.setUint8(TYPE_OF_LOADER, 0xff);                       // "undefined" boot loader
  dv.setUint8(LOADFLAGS, dv.getUint8(LOADFLAGS) & ~CAN_USE_HEAP);  // no real-mode heap: setup code never runs
  dv.setUint16(HEAP_END_PTR, 0, true);
  const lo32 = (v: number) => v >>> 0, hi32 = (v: number) => Math.floor(v / 2 ** 32);
  dv.setUint32(CMD_LINE_PTR, lo32(z.cmdlineGpa), true);
  dv.setUint32(BP_EXT_CMD_LINE_PTR, hi32(z.cmdlineGpa), true);
  dv.setUint32(RAMDISK_IMAGE, lo32(z.initrdGpa ?? 0), true);
  dv.setUint32(BP_EXT_RAMDISK_IMAGE, hi32(z.initrdGpa ?? 0), true);
  dv.setUint32(RAMDISK_SIZE, lo32(z.initrdSize ?? 0), true);
  dv.setUint32(BP_EXT_RAMDISK_SIZE, hi32(z.initrdSize ?? 0), true);
  if (z.e820.length > E820_MAX_ENTRIES_ZEROPAGE) throw new RangeError(`${z.e820.length} e820 entries; the zero page holds ${E820_MAX_ENTRIES_ZEROPAGE}`);
  dv.setUint8(BP_E820_ENTRIES, z.e820.length);
  z.e820.forEach((e, i) => {
    const o = BP_E820_TABLE + i * 20;
    dv.setBigUint64(o, BigInt(e.addr), true);
    dv.setBigUint64(o + 8, BigInt(e.size), true);
    dv.setUint32(o + 16, e.type, true);
  });
  return page;
}

/**
 * The memory map of an HVM guest without a BIOS as Xen's hvmloader/libxl lays it out for a direct
 * kernel boot: conventional memory below the EBDA, the legacy VGA/ROM hole reserved, RAM from 1 MiB.
 */
export function hvmE820(memBytes: number): E820Entry[] {
  return [
    { addr: 0, size: 0x9fc00, type: E820_TYPE_RAM },
    { addr: 0x9fc00, size: 0x400, type: E820_TYPE_RESERVED },
    { addr: 0xf0000, size: 0x10000, type: E820_TYPE_RESERVED },
    { addr: 0x100000, size: memBytes - 0x100000, type: E820_TYPE_RAM },
  ];
}

/** Where the protected-mode kernel goes: pref_address when it fits, else the lowest aligned address from 1 MiB. */
export function kernelLoadAddress(img: BzImage, memBytes: number): number {
  const pref = Number(img.prefAddress);
  if (pref + img.initSize <= memBytes) return pref;
  if (!img.relocatable) {
    throw new ImageError(img.file, `the kernel needs ${(img.initSize / 2 ** 20).toFixed(1)} MiB at pref_address 0x${pref.toString(16)} and is not relocatable: give the guest more memory (--mem)`);
  }
  const align = Math.max(img.kernelAlignment, 0x200000);
  const at = Math.ceil(0x100000 / align) * align;
  if (at + img.initSize > memBytes) throw new ImageError(img.file, `the kernel needs ${(img.initSize / 2 ** 20).toFixed(1)} MiB from 0x${at.toString(16)}: give the guest more memory (--mem)`);
  return at;
}
