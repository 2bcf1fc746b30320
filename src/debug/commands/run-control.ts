// Run control: step, continue, next-exit. Each resumes the session (session.ts drives Xen's vCPU
// loop) and prints the stop as stops.ts words it.
import type { ResumeMode } from '../session.js';
import { formatStop } from '../stops.js';
import { parseCountArg } from '../format.js';
import type { CommandContext, CommandDef } from './command.js';

export function runControlCommands(ctx: CommandContext): CommandDef[] {
  const go = async (mode: ResumeMode): Promise<void> => {
    const st = await ctx.s.resume(mode);
    ctx.out.lines(formatStop(ctx.s, st));
  };
  return [
    {
      name: 'step', aliases: ['s', 'si', 'stepi'], usage: 'step [N]', summary: 'run N guest instructions (default 1)', runs: true,
      help: ['An instruction the hypervisor emulates after a VM exit (RDTSC, OUT, CPUID, ...) counts as one; the exit is',
        'handled on the way. Breakpoints stop a step early. Counts take k/M/G suffixes.'],
      run: (args) => go({ kind: 'step', count: args[0] === undefined ? 1n : parseCountArg(args[0], 'step count') }),
    },
    {
      name: 'continue', aliases: ['c', 'cont'], usage: 'continue', summary: 'run until a breakpoint, a watched exit or VMI request, or shutdown', runs: true,
      help: ['Ctrl-C interrupts a running guest (interactive console).'],
      run: () => go({ kind: 'continue' }),
    },
    {
      name: 'next-exit', aliases: ['ne', 'nexit'], usage: 'next-exit', summary: 'run to the next VM exit and show it decoded', runs: true,
      help: ['Stops when the exit has happened and before Xen\'s handler runs: reason, exit qualification decoded per the',
        'SDM\'s tables, guest RIP and the instruction, the EPT view (EPTP index). Breakpoints met on the way stop first.'],
      run: () => go({ kind: 'next-exit' }),
    },
  ];
}
