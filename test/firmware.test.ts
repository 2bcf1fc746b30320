// The committed firmware images are reproducible from their sources: the
// Makefile rebuilds firmware/tvm into a scratch directory and the result is
// byte-for-byte the committed tvm.elf and System.map.
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { packageRoot } from '../src/util/paths.js';

function have(cmd: string, args: string[] = ['--version']): boolean {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); return true; } catch { return false; }
}
const toolchain = process.platform === 'linux' && have('gcc') && have('ld') && have('make') && have('objcopy') && have('nm');

describe.skipIf(!toolchain)('firmware/tvm', () => {
  it('rebuilds byte-for-byte into a scratch directory', () => {
    const src = join(packageRoot(), 'firmware', 'tvm');
    const out = mkdtempSync(join(tmpdir(), 'vmvmi-tvm-'));
    execFileSync('make', ['-s', '-C', src, `O=${out}`, 'images'], { stdio: 'pipe', env: { ...process.env, SOURCE_DATE_EPOCH: '1' } });
    expect(Buffer.compare(readFileSync(join(out, 'tvm.elf')), readFileSync(join(src, 'tvm.elf')))).toBe(0);
    expect(readFileSync(join(out, 'System.map'), 'latin1')).toBe(readFileSync(join(src, 'System.map'), 'latin1'));
    expect(readFileSync(join(out, 'tvm.profile.json'), 'latin1')).toBe(readFileSync(join(src, 'tvm.profile.json'), 'latin1'));
  }, 60_000);
});

describe.skipIf(!toolchain)('firmware/fp and firmware/bench/nbody (plain gcc -O2: SSE2 and x87 code)', () => {
  it('fp.bin rebuilds byte-for-byte into a scratch directory', () => {
    const src = join(packageRoot(), 'firmware', 'fp');
    const out = mkdtempSync(join(tmpdir(), 'vmvmi-fp-'));
    execFileSync('make', ['-s', '-C', src, `OBJ=${out}`, `IMAGE=${join(out, 'fp.bin')}`, join(out, 'fp.bin')], { stdio: 'pipe' });
    expect(Buffer.compare(readFileSync(join(out, 'fp.bin')), readFileSync(join(src, 'fp.bin')))).toBe(0);
  }, 60_000);

  it('nbody.bin rebuilds byte-for-byte into a scratch directory', () => {
    const src = join(packageRoot(), 'firmware', 'bench');
    const out = mkdtempSync(join(tmpdir(), 'vmvmi-nbody-'));
    execFileSync('make', ['-s', '-C', src, `OBJ=${out}`, join(out, 'nbody.elf')], { stdio: 'pipe' });
    execFileSync('objcopy', ['-O', 'binary', '-j', '.text', '-j', '.rodata', join(out, 'nbody.elf'), join(out, 'nbody.bin')]);
    expect(Buffer.compare(readFileSync(join(out, 'nbody.bin')), readFileSync(join(src, 'nbody.bin')))).toBe(0);
  }, 60_000);
});

// The Linux guest's userland (firmware/linux/initramfs/Makefile): Debian's busybox-static, our init
// and two programs built with plain gcc -O2 -static, packed with fixed mtimes and owners. The kernel
// itself (firmware/linux/build.sh --check) takes minutes and is not rebuilt here.
const busybox = toolchain && have('cpio') && have('strip') && (() => {
  try { return execFileSync('file', ['/bin/busybox'], { encoding: 'utf8' }).includes('statically linked'); } catch { return false; }
})();
describe.skipIf(!busybox)('firmware/linux/initramfs.cpio', () => {
  it('rebuilds byte-for-byte from /bin/busybox (busybox-static), init, vmireq.c and vmexit.c', () => {
    const src = join(packageRoot(), 'firmware', 'linux', 'initramfs');
    const out = join(mkdtempSync(join(tmpdir(), 'vmvmi-initramfs-')), 'initramfs.cpio');
    execFileSync('make', ['-s', '-C', src, `OUT=${out}`, out], { stdio: 'pipe' });
    expect(Buffer.compare(readFileSync(out), readFileSync(join(src, '..', 'initramfs.cpio')))).toBe(0);
  }, 120_000);
});
