// Direct kernel boot of a Linux bzImage into an HVM domain, the way libxl's direct kernel boot and
// QEMU's -kernel hand a kernel its first instruction (the protocol itself is bzimage.ts): the
// protected-mode kernel at its preferred address, the zero page, command line and initrd below it
// or at the top of RAM, identity page tables and a GDT with Linux's boot selectors, then
// startup_64 with RSI = boot_params and interrupts off.
import type { Domain } from './domain.js';
import { ImageError } from './elf.js';
import { PAGE_SIZE } from './frames.js';
import { hexWide as hx } from '../util/format.js';
import {
  BOOT_INFO_GPA, CMDLINE_GPA, GDT_GPA, TSS_GPA, LOADER_AREA_END, identityMap, setInitialState,
} from './boot.js';
import {
  buildZeroPage, hvmE820, kernelLoadAddress, LINUX_BOOT_CS, LINUX_BOOT_DS, type BzImage, type E820Entry,
} from './bzimage.js';

/** The TSS descriptor's selector in the loader's GDT (after __BOOT_CS and __BOOT_DS). */
const LINUX_BOOT_TR = 0x20;
/** startup_64 is 0x200 bytes into the protected-mode kernel (boot.rst, "64-bit Boot Protocol"). */
const STARTUP_64_OFFSET = 0x200;

export interface LinuxBootOptions {
  cmdline?: string;
  initrd?: Uint8Array;
  /** The initrd's file name, for messages. */
  initrdFile?: string;
}

export interface LinuxBootLayout {
  entry: bigint;
  bootParamsGpa: number;
  kernelStart: number;
  /** End of the memory the kernel may use while it starts (load address + init_size). */
  kernelEnd: number;
  initrdGpa: number;
  initrdSize: number;
  e820: E820Entry[];
}

/** Places the kernel, initrd and boot structures in `d` and sets the boot vCPU's state. */
export function bootLinux(d: Domain, img: BzImage, opts: LinuxBootOptions = {}): LinuxBootLayout {
  const mem = d.memBytes;
  const put = (gpa: number, data: Uint8Array, what: string) => {
    if (!d.writeGuestPhys(gpa, data)) throw new ImageError(img.file, `${what} at guest-physical ${hx(gpa)}+${hx(data.length)} is not backed by RAM`);
  };
  const load = kernelLoadAddress(img, mem);
  if (img.kernel.length > img.initSize) throw new ImageError(img.file, `the protected-mode kernel (${img.kernel.length} bytes) is larger than init_size (${img.initSize})`);
  put(load, img.kernel, 'the kernel');

  const cmd = new TextEncoder().encode(opts.cmdline ?? '');
  const cmdMax = Math.min(img.cmdlineSize, LOADER_AREA_END - CMDLINE_GPA - 1);
  if (cmd.length > cmdMax) throw new RangeError(`the command line is ${cmd.length} bytes; this kernel accepts ${img.cmdlineSize}`);
  if (cmd.includes(0)) throw new RangeError('the command line contains a NUL byte');
  put(CMDLINE_GPA, new Uint8Array([...cmd, 0]), 'the command line');

  // The initrd at the top of RAM (below initrd_addr_max), page-aligned, clear of the kernel.
  let initrdGpa = 0;
  const initrdSize = opts.initrd?.length ?? 0;
  if (opts.initrd && initrdSize > 0) {
    const top = Math.min(mem, img.initrdAddrMax + 1);
    initrdGpa = Math.floor((top - initrdSize) / PAGE_SIZE) * PAGE_SIZE;
    if (initrdGpa < load + img.initSize) {
      throw new ImageError(opts.initrdFile ?? 'initrd', `${initrdSize} bytes do not fit between the kernel (ends at ${hx(load + img.initSize)}) and ${hx(top)}: give the guest more memory (--mem)`);
    }
    put(initrdGpa, opts.initrd, 'the initrd');
  }

  const e820 = hvmE820(mem);
  put(BOOT_INFO_GPA, buildZeroPage(img, { cmdlineGpa: CMDLINE_GPA, initrdGpa, initrdSize, e820 }), 'boot_params');

  // GDT: null, null, __BOOT_CS (64-bit code), __BOOT_DS, then a 16-byte TSS descriptor.
  const gdt = new DataView(new ArrayBuffer(48));
  gdt.setBigUint64(LINUX_BOOT_CS, 0x00af9b000000ffffn, true);
  gdt.setBigUint64(LINUX_BOOT_DS, 0x00cf93000000ffffn, true);
  const tss = BigInt(TSS_GPA);
  gdt.setBigUint64(LINUX_BOOT_TR, 0x67n | ((tss & 0xffffffn) << 16n) | (0x89n << 40n) | (((tss >> 24n) & 0xffn) << 56n), true);
  gdt.setBigUint64(LINUX_BOOT_TR + 8, tss >> 32n, true);
  put(GDT_GPA, new Uint8Array(gdt.buffer), 'the GDT');
  const tssBytes = new Uint8Array(104);
  new DataView(tssBytes.buffer).setUint16(102, 104, true);
  put(TSS_GPA, tssBytes, 'the TSS');
  identityMap(d, (gpa, data) => put(gpa, data, 'the page tables'));

  const entry = BigInt(load + STARTUP_64_OFFSET);
  setInitialState(d, entry, { cs: LINUX_BOOT_CS, ds: LINUX_BOOT_DS, tr: LINUX_BOOT_TR, gdtLimit: 47, bootReg: 'rsi', bootArg: BOOT_INFO_GPA });
  return { entry, bootParamsGpa: BOOT_INFO_GPA, kernelStart: load, kernelEnd: load + img.initSize, initrdGpa, initrdSize, e820 };
}
