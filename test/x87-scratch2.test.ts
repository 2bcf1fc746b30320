import { it } from 'vitest';
import { runCases } from './diff/diffcase.js';
import { genX87Case } from './diff/gen-x87.js';
import { disassemble } from './diff/native.js';
it('env', () => {
  const c = genX87Case(1, Number(process.env.CASE ?? 698));
  console.log("CODE", c.code, c.fcw);
  const rd = '488b06' + '488b5e08' + '488b4e10' + '488b5618';
  const cs = [-0x80, -0x60, -0x40, -0x20, 0, 0x20, 0x40, 0x60, 0x80, 0xa0].map((o) => ({ ...c, code: (c.code as string) + '4881c6' + ((o + 0x100000000) >>> 0).toString(16).padStart(8, '0').match(/../g)!.reverse().join('') + rd }));
  const rs = runCases(cs);
  for (const r of rs) console.log(r.diffs.join('\n'), '\n nat', r.nat.regs.rax, r.nat.regs.rbx, r.nat.regs.rcx, r.nat.regs.rdx, '\n emu', r.emu.regs.rax, r.emu.regs.rbx, r.emu.regs.rcx, r.emu.regs.rdx);
});
