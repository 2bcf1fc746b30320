// Issue 13's "done when": a C program built with plain `gcc -O2` (no -mgeneral-regs-only) using
// float, double, long double, varargs and printf("%f %Lf") through a freestanding printf runs in
// the `exec` environment and prints exactly what its native build prints (firmware/fp/).
import { describe, it, expect } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ExecEnv } from '../src/exec.js';

const FP = join(__dirname, '..', 'firmware', 'fp');
const gcc = spawnSync('gcc', ['--version']).status === 0;
const DATA_PA = 0x200000;   // the data window's guest-physical base (src/exec.ts); fp_text is its first byte

describe.skipIf(!gcc)('firmware/fp: ordinary gcc -O2 floating-point C runs as natively (SDM Vol. 1 ch. 8, 10, 11)', () => {
  it('prints the same text as its native build', () => {
    const out = mkdtempSync(join(tmpdir(), 'fp-native-'));
    try {
      execFileSync('make', ['-s', '-C', FP, 'native', `NATIVE_OUT=${out}`], { stdio: 'pipe' });
      const native = execFileSync(join(out, 'fp-native'), { encoding: 'latin1' });
      const env = ExecEnv.createSync();
      const regs = new Array<bigint>(16).fill(0n);
      regs[4] = 0x20010000n;   // RSP: the top of the data window (start.S)
      const r = env.runBinary(readFileSync(join(FP, 'fp.bin')), regs);
      expect(r.stop, JSON.stringify(r).slice(0, 400)).toBe('end');
      const len = Number(BigInt(r.regs.rax));
      const text = Buffer.from(env.machine.readPhys(DATA_PA, len)).toString('latin1');
      expect(text).toBe(native);
      expect(text).toMatch(/long double/);
    } finally { rmSync(out, { recursive: true, force: true }); }
  });
});
