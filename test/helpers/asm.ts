// Assembles small Intel-syntax snippets with GNU as (present wherever gcc is),
// caching the bytes by content so reruns need no toolchain work.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const CACHE = join(import.meta.dirname ?? '.', '..', '.cache', 'asm');

export function haveAssembler(): boolean {
  try { execFileSync('as', ['--version'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Assembles `src` for 64-bit mode at origin `org`; returns the raw bytes of .text. */
export function asm(src: string, org = 0): Uint8Array {
  const text = `.intel_syntax noprefix\n.code64\n.text\n${src}\n`;
  const key = createHash('sha256').update(text).update(String(org)).digest('hex').slice(0, 24);
  mkdirSync(CACHE, { recursive: true });
  const out = join(CACHE, `${key}.bin`);
  if (existsSync(out)) return new Uint8Array(readFileSync(out));
  const dir = tmpdir();
  const s = join(dir, `vmvmi-${key}.s`), o = join(dir, `vmvmi-${key}.o`), e = join(dir, `vmvmi-${key}.elf`);
  writeFileSync(s, text);
  execFileSync('as', ['--64', '-o', o, s]);
  execFileSync('ld', ['-Ttext', '0x' + org.toString(16), '--oformat', 'binary', '-e', '0', '-o', e, o], { stdio: 'pipe' });
  const bytes = readFileSync(e);
  writeFileSync(out, bytes);
  return new Uint8Array(bytes);
}
