// CMPXCHG8B / CMPXCHG16B (SDM Vol. 2A "CMPXCHG8B/CMPXCHG16B": 0F C7 /1, REX.W = 16 bytes) against the
// host CPU: RDX:RAX compared with m64/m128, ZF set and RCX:RBX stored when equal, else ZF cleared and
// the memory operand loaded into RDX:RAX -- and "the destination operand is written back if the
// comparison fails" (so a read-only destination faults with a write #PF either way); CMPXCHG16B needs
// a 16-byte aligned operand (#GP(0)); the other status flags are unchanged.
import { describe, it, expect } from 'vitest';
import { runCases, nativeSkip, type DiffCase } from './diff/diffcase.js';
import { asm } from './helpers/asm.js';

const DATA = 0x20000000;

const base = (src: string, regs: Record<string, string | number | bigint> = {}, rflags: number = 0x8d5): DiffCase => ({
  code: asm(src), rflags,
  regs: { rsi: DATA + 0x100, rax: 1, rdx: 2, rbx: '0x1111111111111111', rcx: '0x2222222222222222', ...regs },
});
// Loads the memory operand's current value into RDX:RAX first (so the comparison succeeds), or not.
const equal16 = (op: string) => `mov rax, [rsi]\nmov rdx, [rsi+8]\n${op}`;
const equal8 = (op: string) => `mov eax, [rsi]\nmov edx, [rsi+4]\n${op}`;

function agree(cs: DiffCase[]): string[] {
  const r = runCases(cs);
  r.forEach((x, i) => expect(x.diffs, `case ${i}: ${JSON.stringify(x.exec)}`).toEqual([]));
  return r.map((x) => `${x.nat.stop}${x.nat.vector !== undefined ? ':' + x.nat.vector : ''}`);
}

describe.skipIf(nativeSkip)('CMPXCHG16B (SDM Vol. 2A CMPXCHG8B/CMPXCHG16B)', () => {
  it('equal: ZF=1, RCX:RBX stored; unequal: ZF=0, RDX:RAX loaded; other flags kept; LOCK form', () => {
    const cs = [
      base(equal16('cmpxchg16b [rsi]')), base(equal16('lock cmpxchg16b [rsi]')),
      base('cmpxchg16b [rsi]'), base('lock cmpxchg16b [rsi]'),
      base(equal16('cmpxchg16b [rsi]'), {}, 0x2), base('cmpxchg16b [rsi]', {}, 0x2c3),
      // only one half equal
      base('mov rax, [rsi]\ncmpxchg16b [rsi]'), base('mov rdx, [rsi+8]\ncmpxchg16b [rsi]'),
      // twice: the first stores RCX:RBX, the second then compares unequal against the new value and loads it
      base(equal16('cmpxchg16b [rsi]\nmov rbx, 5\ncmpxchg16b [rsi]')),
      base(equal16('cmpxchg16b [rsi+r8*8]'.replace('[rsi+r8*8]', '[rsi]')), { rsi: DATA + 0xff0 }),
    ];
    expect(agree(cs).every((s) => s === 'end')).toBe(true);
  });

  it('misaligned: #GP(0) before any access; non-canonical #GP(0); unmapped #PF', () => {
    const st = agree([
      base('cmpxchg16b [rsi]', { rsi: DATA + 0x108 }), base('cmpxchg16b [rsi]', { rsi: DATA + 0x10008 }),
      base('cmpxchg16b [rsi]', { rsi: '0x8000000000000000' }), base('cmpxchg16b [rsi]', { rsi: DATA + 0x10000 }),
    ]);
    expect(st).toEqual(['exception:13', 'exception:13', 'exception:13', 'exception:14']);
  });

  it('the destination is written even when the comparison fails: a read-only operand faults with a write #PF', () => {
    const st = agree([
      base('lea rsi, [rip+0x100]\nand rsi, -16\ncmpxchg16b [rsi]'), base('cmpxchg8b [rip+0x100]'),
      base('lea rsi, [rip+0x100]\nand rsi, -16\n' + equal16('cmpxchg16b [rsi]')),
    ]);
    expect(st).toEqual(['exception:14', 'exception:14', 'exception:14']);
  });
});

describe.skipIf(nativeSkip)('CMPXCHG8B (SDM Vol. 2A CMPXCHG8B/CMPXCHG16B)', () => {
  it('equal and unequal; any alignment (no #GP), also across a page', () => {
    const st = agree([
      base(equal8('cmpxchg8b [rsi]')), base('cmpxchg8b [rsi]'), base(equal8('lock cmpxchg8b [rsi]'), { rsi: DATA + 0x103 }),
      base('cmpxchg8b [rsi]', { rsi: DATA + 0xffd }), base(equal8('cmpxchg8b [rsi]'), { rsi: DATA + 0x1ffc }),
      base('cmpxchg8b [rsi]', { rsi: DATA + 0xfffc, rax: 0, rdx: 0 }),
    ]);
    expect(st).toEqual(['end', 'end', 'end', 'end', 'end', 'exception:14']);
  });
});
