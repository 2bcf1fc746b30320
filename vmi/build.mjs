#!/usr/bin/env node
// Builds the bundled VMI programs (vmi/programs/*.ts, AssemblyScript) into
// WASI command modules build/vmi/<name>.wasm with vmi/asconfig.json.
// `npm run build:vmi`; `node vmi/build.mjs [name ...]` builds only those.
import asc from 'assemblyscript/asc';
import { readdirSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
process.chdir(root);   // asconfig's `use abort=vmi/lib/...` is relative to the package root
const srcDir = join('vmi', 'programs');
const outDir = join('build', 'vmi');
const wanted = process.argv.slice(2);
const programs = readdirSync(srcDir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();
if (wanted.length > 0 && programs.length !== wanted.length) {
  console.error(`build:vmi: no such program: ${wanted.filter((w) => !programs.includes(w)).join(', ')}`);
  process.exit(1);
}
mkdirSync(outDir, { recursive: true });
let failed = 0;
for (const name of programs) {
  const out = join(outDir, `${name}.wasm`);
  const { error, stderr } = await asc.main([
    join(srcDir, `${name}.ts`), '--config', join('vmi', 'asconfig.json'), '--target', 'release', '-o', out,
  ]);
  if (error) {
    failed++;
    console.error(`build:vmi: ${name}: ${error.message}\n${stderr.toString()}`);
  } else {
    console.log(`build:vmi: ${relative(root, out)}`);
  }
}
process.exit(failed ? 1 : 0);
