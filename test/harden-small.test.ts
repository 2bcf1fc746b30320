// Issue 12, the smaller items: exec's "code" field of megabytes gets its size error (not
// "Maximum call stack size exceeded"), exec reports only input errors as input errors, and
// unknown hypercall numbers are counted under their own number (Xen answers -ENOSYS).
import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ExecEnv } from '../src/exec.js';
import { runImage } from '../src/run.js';
import { asm, haveAssembler } from './helpers/asm.js';
import { makeElf } from './helpers/elf.js';

describe('exec', () => {
  it('a "code" field of 8 MiB of hex: the size error', async () => {
    const env = await ExecEnv.create();
    const out = env.runLine(JSON.stringify({ code: '90'.repeat(4 << 20) }), 1);
    expect(out).toEqual({ error: expect.stringMatching(/^line 1: "code" is 4194304 bytes; at most \d+ fit$/) });
    expect(env.runLine(JSON.stringify({ code: '9'.repeat(8 << 20) + 'z' }), 2))
      .toEqual({ error: 'line 2: "code" must be a string of hex byte pairs' });
  });
  it('an internal RangeError is not reported as bad input', async () => {
    const env = await ExecEnv.create();
    env.runBinary = () => { throw new RangeError('internal'); };
    expect(() => env.runLine('{"code":"90"}', 1)).toThrow(/internal/);
  });
});

describe.skipIf(!haveAssembler())('hypercall statistics', () => {
  it('counts unknown numbers by number, small and large', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vmvmi-hc-'));
    const image = join(dir, 'hc.elf');
    writeFileSync(image, makeElf(0x100000, [{ paddr: 0x100000, data: asm(`
      mov eax, 99
      vmcall
      mov rax, 0x123456789a
      vmcall
      mov rax, 0x123456789a
      vmcall
      xor eax, eax
      mov dx, 0x501
      out dx, eax
    `, 0x100000) }]));
    const s = runImage({ image, systemMap: false, memMiB: 3, maxInsns: 100_000n });
    expect(s.exit.kind).toBe('shutdown');
    expect(s.hypercalls).toMatchObject({ hypercall_99: 1, hypercall_0x123456789a: 2 });
    expect(Object.keys(s.hypercalls)).not.toContain('hypercall_-1');
  });
});
