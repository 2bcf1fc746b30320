import { it } from 'vitest';
import { runCases } from './diff/diffcase.js';
it('env', () => {
  const rd = '488b06' + '488b5e08' + '488b4e10' + '488b5618';
  const cs = ['d97600d8ea' + rd, 'd97600d8ea' + rd, 'd97600' + rd, 'd97600dd4620' + rd];
  const rs = runCases(cs.map((code) => ({ code, regs: { rsi: 0x20000080 }, fcw: 0x77f })));
  for (const r of rs) console.log(r.diffs.join('\n'), '\n nat', r.nat.regs.rax, r.nat.regs.rbx, r.nat.regs.rcx, r.nat.regs.rdx, '\n emu', r.emu.regs.rax, r.emu.regs.rbx, r.emu.regs.rcx, r.emu.regs.rdx);
});
