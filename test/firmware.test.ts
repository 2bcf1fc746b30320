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
