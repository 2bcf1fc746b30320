// Fuzz: mutated ELF images through the loader (src/xen/elf.ts parseElf64, then the boot protocol's
// bootImage into a small domain) and through `run`. A damaged image is refused with one ImageError
// line that names the file and the field at fault (an e_* or p_* field, a segment, the magic) --
// never another exception, never a hang; an image that still validates boots or is refused with the
// same kind of error. The seeds are the boot-protocol images test/helpers/elf.ts builds.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { parseElf64, ImageError } from '../../src/xen/elf.js';
import { bootImage } from '../../src/xen/boot.js';
import { Domain } from '../../src/xen/domain.js';
import { makeElf } from '../helpers/elf.js';
import { runCli } from '../helpers/cli.js';
import { fuzz, fuzzTimeout, mutate, type Rnd } from './fuzz.js';

/** Names a field or a part of the image (elf.ts's messages). */
const NAMES_FIELD = /e_ident|e_type|e_machine|e_version|e_ehsize|e_phnum|e_phentsize|e_phoff|e_entry|p_filesz|p_memsz|p_offset|p_paddr|p_flags|segment \d+|program headers|ELF header|empty file|PT_LOAD|RAM|memory|boot/;

/** A valid image: 1-3 PT_LOAD segments of code/data at physical addresses in a 4 MiB guest. */
function seedImage(r: Rnd): Uint8Array {
  const n = 1 + r.int(3);
  const segs = Array.from({ length: n }, (_, i) => ({ paddr: 0x100000 + i * 0x10000, data: r.bytes(16 + r.int(256)), memsz: 0x1000 + r.int(0x4000), flags: i === 0 ? 5 : r.pick([4, 6, 7]) }));
  segs[0].data[0] = 0xf4; // hlt
  return makeElf(0x100000, segs);
}

/** A header field overwritten with an edge value: the mutations a byte flip rarely reaches. */
function fieldEdit(r: Rnd, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const v = new DataView(out.buffer);
  const phoff = 64, phnum = v.getUint16(56, true);
  const fields: Array<[number, 2 | 4 | 8]> = [[16, 2], [18, 2], [20, 4], [24, 8], [32, 8], [52, 2], [54, 2], [56, 2]];
  for (let i = 0; i < phnum; i++) for (const [o, w] of [[0, 4], [4, 4], [8, 8], [16, 8], [24, 8], [32, 8], [40, 8]] as Array<[number, 4 | 8]>) fields.push([phoff + 56 * i + o, w]);
  const [at, w] = r.pick(fields);
  if (at + w > out.length) return out;
  const edge = r.pick([0n, 1n, 0xffffn, 0xffffffffn, 0xffffffffffffffffn, 1n << 63n, 1n << 52n, BigInt(out.length), BigInt(r.int(2 ** 31))]);
  if (w === 2) v.setUint16(at, Number(edge & 0xffffn), true);
  else if (w === 4) v.setUint32(at, Number(edge & 0xffffffffn), true);
  else v.setBigUint64(at, edge, true);
  return out;
}

describe('fuzz: mutated ELF images through the loader', () => {
  it('each image is refused with one line naming the field, or loads and boots', async () => {
    let refused = 0, booted = 0;
    const run = await fuzz('elf', 500, (r) => {
      const img = r.chance(0.5) ? fieldEdit(r, seedImage(r)) : mutate(r, seedImage(r), 1 + r.int(6));
      let elf;
      try { elf = parseElf64(img, 'fuzz.elf'); } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`not an ImageError: ${(e as Error)?.stack}`);
        if (!e.message.startsWith('fuzz.elf: ') || e.message.includes('\n') || !NAMES_FIELD.test(e.detail)) throw new Error(`unclear error: ${e.message}`);
        refused++;
        return;
      }
      const d = new Domain({ memMiB: 4, log: () => {} });
      try { bootImage(d, elf, { cmdline: '' }); booted++; } catch (e) {
        if (!(e instanceof ImageError)) throw new Error(`boot: not an ImageError: ${(e as Error)?.stack}`);
        if (e.message.includes('\n') || !NAMES_FIELD.test(e.detail)) throw new Error(`unclear boot error: ${e.message}`);
        refused++;
      }
    });
    console.log(`fuzz elf: ${refused} refused, ${booted} booted`);
    expect(run.failures).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(booted).toBeGreaterThan(0);
  }, fuzzTimeout(60_000));

  it('through `run`: a damaged image exits 1 with one line, a booting one runs to a stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmvmi-fuzz-elf-'));
    const run = await fuzz('elf-run', 15, async (r, i) => {
      const file = join(dir, `i${i}.elf`);
      writeFileSync(file, r.chance(0.5) ? fieldEdit(r, seedImage(r)) : mutate(r, seedImage(r)));
      const c = await runCli(['run', file, '--system-map', 'none', '--mem', '4', '--no-vmi', '--max-insns', '20000']);
      const lines = c.stderr.split('\n').filter(Boolean);
      if (c.code === 1) {
        if (lines.length !== 1 || !lines[0].startsWith(`vmfunc-vmi: ${file}: `)) throw new Error(`exit 1 with ${JSON.stringify(c.stderr)}`);
      } else if (![0, 124, 125].includes(c.code) && !(c.code >= 0 && c.code < 256)) {
        throw new Error(`exit ${c.code}: ${c.stderr}`);
      }
      if (/\n\s+at /.test(c.stderr)) throw new Error(`a stack trace: ${c.stderr}`);
    });
    expect(run.failures).toEqual([]);
  }, fuzzTimeout(60_000));
});
