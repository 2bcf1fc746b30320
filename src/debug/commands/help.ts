// help, echo and quit: the commands about the debugger itself rather than the guest.
// (quit's exit status is read by the dispatcher, which ends the session.)
import { DebugError } from '../format.js';
import type { CommandContext, CommandDef } from './command.js';

export function helpCommand(ctx: CommandContext): CommandDef {
  const out = ctx.out;
  return {
    name: 'help', aliases: ['h', '?'], usage: 'help [COMMAND]', summary: 'list the commands, or explain one',
    help: ['Without an argument, lists every command with a one-line summary.', 'With one, shows its usage and what it does.'],
    run: (args) => {
      if (args.length) {
        const c = ctx.command(args[0].toLowerCase());
        if (!c) throw new DebugError(`no command "${args[0]}" (try "help")`);
        out.line(`usage: ${c.usage}${c.aliases.length ? `   (aliases: ${c.aliases.join(', ')})` : ''}`);
        out.line(`  ${c.summary}`);
        for (const l of c.help) out.line(`  ${l}`);
        return;
      }
      out.line('Commands (help COMMAND for more):');
      for (const c of ctx.commands) {
        if (c.usage.length <= 34) out.line(`  ${c.usage.padEnd(34)} ${c.summary}`);
        else { out.line(`  ${c.usage}`); out.line(`  ${''.padEnd(34)} ${c.summary}`); }
      }
      out.line('ADDR is an expression: numbers (0x for hex), $registers and kernel symbols joined by + and -,');
      out.line('e.g. schedule+0x10, $rsp+8, 0x4000be. Prefix p: for guest-physical, m: for machine addresses.');
    },
  };
}

export function scriptCommands(ctx: CommandContext): CommandDef[] {
  return [
    {
      name: 'echo', aliases: [], usage: 'echo TEXT', summary: 'print TEXT (for scripts)',
      help: ['Prints the rest of the line as it is.'],
      run: (_a, rest) => ctx.out.line(rest),
    },
    {
      name: 'quit', aliases: ['q', 'exit'], usage: 'quit [STATUS]', summary: 'leave the debugger (exit status, default 0)',
      help: ['The guest is dropped where it stands.'],
      run: () => {},
    },
  ];
}
