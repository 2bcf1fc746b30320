// The bundled VMI programs (vmi/programs, built into build/vmi by vmi/build.mjs) for the
// tests that run them: rebuilt when a source under vmi/ is newer than a module.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundledProgram } from '../../src/dom0/launch.js';
import { Sandbox } from '../../src/dom0/sandbox/index.js';
import { Vmi } from '../../src/dom0/libvmi/index.js';
import { loadProfile } from '../../src/dom0/profile.js';
import { packageRoot } from '../../src/util/paths.js';
import { buildSyntheticGuest, type SyntheticGuest } from './vmi-guest.js';

export function buildBundledPrograms(): void {
  const root = packageRoot();
  const srcs = ['programs', 'lib'].flatMap((d) => readdirSync(join(root, 'vmi', d)).map((f) => join(root, 'vmi', d, f)));
  srcs.push(join(root, 'vmi', 'asconfig.json'));
  const newest = Math.max(...srcs.map((f) => statSync(f).mtimeMs));
  const names = readdirSync(join(root, 'vmi', 'programs')).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3));
  if (names.every((n) => existsSync(bundledProgram(n)) && statSync(bundledProgram(n)).mtimeMs >= newest)) return;
  execFileSync(process.execPath, [join(root, 'vmi', 'build.mjs')], { stdio: 'pipe' });
}

/** The programs built, a fresh synthetic guest, its Vmi and a sandbox (close it after). */
export function startProgramBench(): { g: SyntheticGuest; vmi: Vmi; sandbox: Sandbox } {
  buildBundledPrograms();
  const g = buildSyntheticGuest();
  return { g, vmi: new Vmi(g.domain, { profile: loadProfile(g.profilePath) }), sandbox: new Sandbox() };
}
