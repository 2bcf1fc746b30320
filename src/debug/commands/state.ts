// regs and set: the vCPU's register state as the VMCS guest-state area and the CPU hold it
// (at an exit stop, the values Xen's handler will see).
import type { DebugSession } from '../session.js';
import { readReg, writeReg, isRegister, describeRflags } from '../registers.js';
import { evalExpr } from '../expr.js';
import { symSuffix } from '../stops.js';
import { DebugError } from '../format.js';
import { hex, hexPad } from '../../util/format.js';
import type { CommandContext, CommandDef } from './command.js';

export function stateCommands(ctx: CommandContext): CommandDef[] {
  const s = ctx.s, out = ctx.out;
  return [
    {
      name: 'regs', aliases: ['registers'], usage: 'regs', summary: 'the vCPU\'s registers',
      help: ['General-purpose registers, RIP (with its symbol), RFLAGS decoded, segment selectors and bases, control',
        'registers, EFER, CPL and the EPT view. At an exit stop these are the values Xen\'s handler will see.'],
      run: () => out.lines(regLines(s)),
    },
    {
      name: 'set', aliases: [], usage: 'set $REG VALUE', summary: 'change a register',
      help: ['General-purpose registers, $rip, $rflags, $fs_base, $gs_base. Segment and control registers are read-only.'],
      run: (args) => {
        const joined = args.join(' ');
        const m = /^\$?(\w+)\s*=?\s*(.+)$/.exec(joined);
        if (!m) throw new DebugError('usage: set $REG VALUE');
        const reg = m[1].toLowerCase();
        if (!isRegister(reg)) throw new DebugError(`unknown register "$${m[1]}"`);
        const v = evalExpr(s, m[2]);
        writeReg(s.m, reg, v);
        out.line(`${reg} = ${hex(readReg(s.m, reg))}`);
      },
    },
  ];
}

export function regLines(s: DebugSession): string[] {
  const r = (n: string) => readReg(s.m, n);
  const lines: string[] = [];
  const row = (names: string[]) => names.map((n) => `${n.padStart(3)} ${hexPad(r(n))}`).join('   ');
  lines.push(row(['rax', 'rbx', 'rcx', 'rdx']));
  lines.push(row(['rsi', 'rdi', 'rbp', 'rsp']));
  lines.push(row(['r8', 'r9', 'r10', 'r11']));
  lines.push(row(['r12', 'r13', 'r14', 'r15']));
  const rip = r('rip'), fl = r('rflags');
  lines.push(`rip ${hexPad(rip)}${symSuffix(s, rip)}   rflags ${hex(fl)} ${describeRflags(fl)}`);
  lines.push(['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => `${n} ${hex(r(n))}`).join('  ') + `   fs_base ${hex(r('fs_base'))}  gs_base ${hex(r('gs_base'))}`);
  lines.push(`cr0 ${hex(r('cr0'))}  cr2 ${hex(r('cr2'))}  cr3 ${hex(r('cr3'))}  cr4 ${hex(r('cr4'))}  efer ${hex(r('efer'))}  cpl ${s.cpl}`);
  lines.push(`EPT ${s.describeView()}, EPTP ${hex(s.eptp)}`);
  return lines;
}
