// Xen's own trace analyser, from Debian's xen-utils-common package (no Xen
// needed: xenalyze links only libc). Downloaded with apt-get and unpacked with
// dpkg -x into test/.cache, once.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const DIR = join(import.meta.dirname ?? '.', '..', '.cache', 'xen');
const BIN = join(DIR, 'root', 'usr', 'bin', 'xenalyze');

/** Path of xenalyze, or a reason it is unavailable. */
export function findXenalyze(): { path?: string; why?: string } {
  if (existsSync(BIN)) return { path: BIN };
  if (process.platform !== 'linux' || process.arch !== 'x64') return { why: 'xenalyze needs x86-64 Linux' };
  mkdirSync(DIR, { recursive: true });
  const download = () => spawnSync('apt-get', ['download', 'xen-utils-common'], { cwd: DIR, encoding: 'utf8' });
  let r = download();
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { encoding: 'utf8' });
    r = download();
  }
  const deb = readdirSync(DIR).find((f) => f.startsWith('xen-utils-common') && f.endsWith('.deb'));
  if (!deb) return { why: `apt-get download xen-utils-common failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}` };
  try { execFileSync('dpkg', ['-x', join(DIR, deb), join(DIR, 'root')]); } catch (e) { return { why: `dpkg -x failed: ${(e as Error).message}` }; }
  return existsSync(BIN) ? { path: BIN } : { why: 'xenalyze not found in the package' };
}

export function xenalyze(path: string, args: string[], file: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(path, [...args, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
