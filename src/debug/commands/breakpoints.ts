// break and delete: breakpoints at guest addresses, before VMFUNC, at VM exits by reason, and at
// VMI requests (the kinds and their bookkeeping are ../breakpoints.ts).
import { parseExitReason, describeBreakpoint, type BreakpointSpec } from '../breakpoints.js';
import { evalExpr, splitCr3 } from '../expr.js';
import { DebugError, parseNumber } from '../format.js';
import { hex } from '../../util/format.js';
import type { CommandContext, CommandDef } from './command.js';

export function breakpointCommands(ctx: CommandContext): CommandDef[] {
  const s = ctx.s, out = ctx.out;
  return [
    {
      name: 'break', aliases: ['b', 'br'], usage: 'break ADDR [cr3=CR3] | exit REASON | vmfunc | vmi', summary: 'set a breakpoint',
      help: ['break ADDR            before the instruction at a guest-linear address or kernel symbol (break schedule);',
        '                      cr3=VALUE limits it to one address space (user programs share addresses)',
        'break exit REASON...  at VM exits with these reasons: names as Xen spells them (RDTSC, IO_INSTRUCTION,',
        '                      EPT_VIOLATION, ...) or numbers; stops after the exit, before Xen\'s handler',
        'break vmfunc          before every VMFUNC: EPT view switches the guest makes without a VM exit',
        'break vmi             when the VMFUNC-aware RDTSC handler raises a VMI request (after the handler)'],
      run: (args) => {
        if (!args.length) throw new DebugError('break: what? (ADDR, exit REASON, vmfunc or vmi; see "help break")');
        const specs: BreakpointSpec[] = [];
        const kind = args[0].toLowerCase();
        if (kind === 'exit') {
          if (args.length < 2) throw new DebugError('break exit: name the exit reason (e.g. break exit RDTSC)');
          for (const a of args.slice(1)) specs.push({ kind: 'exit', reason: parseExitReason(a) });
        } else if (kind === 'vmfunc') {
          if (args.length > 1) throw new DebugError('break vmfunc takes no argument');
          specs.push({ kind: 'vmfunc' });
        } else if (kind === 'vmi') {
          if (args.length > 1) throw new DebugError('break vmi takes no argument');
          if (!s.mech) throw new DebugError('break vmi: the VMI mechanism is off in this session (--no-vmi)');
          specs.push({ kind: 'vmi' });
        } else {
          const { expr, cr3 } = splitCr3(s, args);
          const label = expr.replace(/^\*/, '');
          const addr = evalExpr(s, label);
          specs.push({ kind: 'address', addr, label: /^(0x)?[0-9a-f]+$/i.test(label) ? hex(addr) : label, cr3 });
        }
        for (const spec of specs) {
          const { bp, existing } = s.bps.add(spec);
          out.line(`${existing ? 'Already have breakpoint' : 'Breakpoint'} ${bp.id} ${describeBreakpoint(bp)}`);
        }
        s.syncBreakpoints();
      },
    },
    {
      name: 'delete', aliases: ['d'], usage: 'delete [N...]', summary: 'delete breakpoints (all without arguments)',
      help: ['Breakpoint numbers are those "info breakpoints" shows.'],
      run: (args) => {
        if (!args.length) { out.line(`Deleted ${s.bps.clear()} breakpoint(s)`); s.syncBreakpoints(); return; }
        const ids = args.map((a) => Number(parseNumber(a, 'breakpoint number')));
        for (const id of ids) { const b = s.bps.delete(id); out.line(`Deleted breakpoint ${b.id} ${describeBreakpoint(b)}`); }
        s.syncBreakpoints();
      },
    },
  ];
}
