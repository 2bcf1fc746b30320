// The Linux/x86 boot protocol's 64-bit entry (Linux Documentation/x86/boot.rst; struct setup_header
// and struct boot_params in arch/x86/include/uapi/asm/bootparam.h): parsing a bzImage, the zero page,
// and the state startup_64 is entered with (src/xen/bzimage.ts, src/xen/boot-linux.ts).
import { describe, it, expect } from 'vitest';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseBzImage, isBzImage, buildZeroPage, hvmE820, kernelLoadAddress, E820_TYPE_RAM } from '../src/xen/bzimage.js';
import { bootLinux } from '../src/xen/boot-linux.js';
import { Domain } from '../src/xen/domain.js';
import { ImageError } from '../src/xen/elf.js';

const BUNDLED = join(__dirname, '..', 'firmware', 'linux', 'bzImage');

/** A minimal image with a 2.15 header (the fields boot.rst defines), `sects` setup sectors and `body` after them. */
function fakeBz(over: Partial<{ version: number; xlf: number; loadflags: number; magic: number; initSize: number; pref: bigint }> = {}, body = 4096): Uint8Array {
  const sects = 4;
  const b = new Uint8Array((sects + 1) * 512 + body);
  const dv = new DataView(b.buffer);
  dv.setUint8(0x1f1, sects);
  dv.setUint16(0x1fe, 0xaa55, true);
  dv.setUint8(0x200, 0xeb); dv.setUint8(0x201, 0x6a);   // jmp over the header to 0x26c
  dv.setUint32(0x202, over.magic ?? 0x53726448, true);
  dv.setUint16(0x206, over.version ?? 0x020f, true);
  dv.setUint8(0x211, over.loadflags ?? 0x01);
  dv.setUint32(0x22c, 0x7fffffff, true);
  dv.setUint32(0x230, 0x200000, true);
  dv.setUint8(0x234, 1);
  dv.setUint16(0x236, over.xlf ?? 0x01, true);
  dv.setUint32(0x238, 2047, true);
  dv.setBigUint64(0x258, over.pref ?? 0x1000000n, true);
  dv.setUint32(0x260, over.initSize ?? 0x100000, true);
  for (let i = 0; i < body; i++) b[(sects + 1) * 512 + i] = (i * 7) & 255;
  return b;
}

describe('parsing a bzImage (boot.rst "The Real-Mode Kernel Header")', () => {
  it('reads the 2.15 header fields and the protected-mode kernel after setup_sects + 1 sectors', () => {
    const img = parseBzImage(fakeBz(), 'k');
    expect(img.version).toBe(0x020f);
    expect(img.kernel.length).toBe(4096);
    expect(img.kernel[1]).toBe(7);
    expect(img.prefAddress).toBe(0x1000000n);
    expect(img.relocatable).toBe(true);
    expect(img.header.length).toBe(0x26c - 0x1f1);
  });
  it.each([
    ['no HdrS signature', { magic: 0x12345678 }, /header \(offset 0x202\).*HdrS/],
    ['protocol 2.11 (before the 64-bit entry guarantees)', { version: 0x020b }, /version \(offset 0x206\).*2\.12/],
    ['no 64-bit entry (XLF_KERNEL_64 clear)', { xlf: 0 }, /xloadflags \(offset 0x236\).*XLF_KERNEL_64/],
    ['a zImage (LOADED_HIGH clear)', { loadflags: 0 }, /loadflags \(offset 0x211\)/],
    ['init_size 0', { initSize: 0 }, /init_size \(offset 0x260\)/],
  ])('rejects %s, naming the field', (_n, over, msg) => {
    expect(() => parseBzImage(fakeBz(over), 'k.bin')).toThrow(ImageError);
    expect(() => parseBzImage(fakeBz(over), 'k.bin')).toThrow(msg);
  });
  it('rejects a truncated file and tells an ELF image apart', () => {
    expect(() => parseBzImage(new Uint8Array(100), 'short')).toThrow(/too short/);
    expect(isBzImage(fakeBz())).toBe(true);
    expect(isBzImage(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, ...new Array(0x300).fill(0)]))).toBe(false);
  });
});

describe('the zero page (struct boot_params)', () => {
  it('carries the header, loader type 0xff, the command line, the initrd and the e820 map at their offsets', () => {
    const img = parseBzImage(fakeBz(), 'k');
    const zp = buildZeroPage(img, { cmdlineGpa: 0x2000, initrdGpa: 0x3000000, initrdSize: 12345, e820: hvmE820(64 << 20) });
    const dv = new DataView(zp.buffer);
    expect(dv.getUint32(0x202, true)).toBe(0x53726448);
    expect(dv.getUint8(0x210)).toBe(0xff);               // type_of_loader
    expect(dv.getUint32(0x228, true)).toBe(0x2000);       // cmd_line_ptr
    expect(dv.getUint32(0x218, true)).toBe(0x3000000);    // ramdisk_image
    expect(dv.getUint32(0x21c, true)).toBe(12345);        // ramdisk_size
    expect(dv.getUint8(0x1e8)).toBe(4);                   // e820_entries
    expect(dv.getBigUint64(0x2d0 + 3 * 20, true)).toBe(0x100000n);
    expect(dv.getBigUint64(0x2d0 + 3 * 20 + 8, true)).toBe(BigInt((64 << 20) - 0x100000));
    expect(dv.getUint32(0x2d0 + 3 * 20 + 16, true)).toBe(E820_TYPE_RAM);
  });
  it('loads at pref_address when it fits, else the first 2 MiB-aligned address from 1 MiB', () => {
    expect(kernelLoadAddress(parseBzImage(fakeBz(), 'k'), 64 << 20)).toBe(0x1000000);
    expect(kernelLoadAddress(parseBzImage(fakeBz({ pref: 0x3000000n, initSize: 0x200000 }), 'k'), 32 << 20)).toBe(0x200000);
    expect(() => kernelLoadAddress(parseBzImage(fakeBz({ initSize: 0x4000000 }), 'k'), 32 << 20)).toThrow(/--mem/);
  });
});

describe('entering startup_64 (boot.rst "64-bit Boot Protocol")', () => {
  it('kernel at its load address, RIP = load + 0x200, RSI = boot_params, CS = __BOOT_CS 0x10, DS = __BOOT_DS 0x18, initrd at the top of RAM', () => {
    const d = new Domain({ memMiB: 32 });
    const initrd = Uint8Array.from({ length: 10000 }, (_, i) => i & 0xff);
    const lay = bootLinux(d, parseBzImage(fakeBz(), 'k'), { cmdline: 'console=ttyS0', initrd });
    expect(lay.entry).toBe(0x1000200n);
    expect(d.machine.vmread('GUEST_RIP')).toBe(0x1000200n);
    expect(d.machine.gpr('rsi')).toBe(BigInt(lay.bootParamsGpa));
    expect(d.machine.vmread('GUEST_CS_SELECTOR')).toBe(0x10n);
    expect(d.machine.vmread('GUEST_DS_SELECTOR')).toBe(0x18n);
    expect(d.machine.vmread('GUEST_SS_SELECTOR')).toBe(0x18n);
    expect(d.machine.vmread('GUEST_RFLAGS') & 0x200n).toBe(0n);   // interrupts off
    expect(d.readGuestPhys(0x1000000, 4)).toEqual(parseBzImage(fakeBz(), 'k').kernel.subarray(0, 4));
    expect(lay.initrdGpa % 4096).toBe(0);
    expect(lay.initrdGpa + initrd.length).toBeLessThanOrEqual(32 << 20);
    expect(d.readGuestPhys(lay.initrdGpa, 10000)).toEqual(initrd);
    const cmd = d.readGuestPhys(0x2000, 14)!;
    expect(new TextDecoder().decode(cmd)).toBe('console=ttyS0\0');
  });
  it('refuses an initrd that does not fit above the kernel', () => {
    const d = new Domain({ memMiB: 20 });
    expect(() => bootLinux(d, parseBzImage(fakeBz(), 'k'), { initrd: new Uint8Array(4 << 20), initrdFile: 'big.cpio' })).toThrow(/big\.cpio.*--mem/);
  });
});

describe.skipIf(!existsSync(BUNDLED))('the bundled kernel (firmware/linux/bzImage)', () => {
  it('is a 64-bit bzImage of boot protocol 2.15, loaded at 16 MiB (tinyconfig: not relocatable, so pref_address it is)', () => {
    const img = parseBzImage(readFileSync(BUNDLED), BUNDLED);
    expect(img.version).toBe(0x020f);
    const config = readFileSync(join(BUNDLED, '..', 'config'), 'latin1');
    expect(img.relocatable).toBe(/^CONFIG_RELOCATABLE=y$/m.test(config));
    expect(img.prefAddress).toBe(0x1000000n);
    expect(img.initSize).toBeGreaterThan(img.kernel.length);
  });
});

describe.skipIf(!existsSync(BUNDLED))('the bundled kernel\'s profiles (firmware/linux/profile.py from its DWARF)', () => {
  it('the LibVMI profile, the Volatility 3 ISF subset and System.map agree', () => {
    const dir = join(BUNDLED, '..');
    const prof = JSON.parse(readFileSync(join(dir, 'linux.profile.json'), 'utf8')) as Record<string, string | number>;
    const isf = JSON.parse(readFileSync(join(dir, 'linux.isf.json'), 'utf8'));
    const map = new Map(readFileSync(join(dir, 'System.map'), 'latin1').split('\n').filter((l) => l).map((l) => l.split(' ')).map(([a, , n]) => [n, BigInt('0x' + a)] as const));
    // ISF addresses are JSON integers above 2^53 (Python writes them exactly): read them from the text.
    const isfText = readFileSync(join(dir, 'linux.isf.json'), 'utf8');
    const addr = (sym: string) => BigInt(new RegExp(`"${sym}": \\{\\s*"address": (\\d+)`).exec(isfText)![1]);
    const task = isf.user_types.task_struct.fields, mm = isf.user_types.mm_struct.fields;
    expect(isf.metadata.format).toBe('6.2.0');
    expect(Number(prof.linux_tasks)).toBe(task.tasks.offset);
    expect(Number(prof.linux_mm)).toBe(task.mm.offset);
    expect(Number(prof.linux_pid)).toBe(task.pid.offset);
    expect(Number(prof.linux_name)).toBe(task.comm.offset);
    expect(Number(prof.linux_pgd)).toBe(mm.pgd.offset);
    expect(task.comm.type).toEqual({ kind: 'array', count: 16, subtype: { kind: 'base', name: 'char' } });
    for (const s of ['init_task', 'sys_call_table']) expect(addr(s)).toBe(map.get(s));
  });
});
