// The debugger's command dispatcher, shared by the interactive console, --script and gdb's
// `monitor`: one table of the command groups in src/debug/commands/, a line split into a command
// word and its arguments, and readline's completion. A bad command or argument is one line
// starting "error:" (DebugError); the session is never left half-changed by one.
import { VMCS_FIELDS } from '../vmcs.js';
import { VmxError } from '../machine.js';
import type { DebugSession, Stop } from './session.js';
import type { Output } from './output.js';
import { REGISTER_NAMES } from './registers.js';
import { DebugError, parseNumber } from './format.js';
import { formatStop, locationLine } from './stops.js';
import type { CommandContext, CommandDef } from './commands/command.js';
import { helpCommand, scriptCommands } from './commands/help.js';
import { runControlCommands } from './commands/run-control.js';
import { breakpointCommands } from './commands/breakpoints.js';
import { stateCommands } from './commands/state.js';
import { vmcsCommand } from './commands/vmcs.js';
import { memoryCommands } from './commands/memory.js';
import { infoCommands } from './commands/info.js';

export type { CommandDef } from './commands/command.js';

export interface CommandResult { ok: boolean; quit?: boolean; code?: number }

export const PROMPT = '(vmfunc-vmi) ';

export class Debugger implements CommandContext {
  /** The commands in the order `help` lists them. */
  readonly commands: CommandDef[];
  private readonly byName = new Map<string, CommandDef>();

  constructor(readonly s: DebugSession, readonly out: Output) {
    this.commands = [
      helpCommand(this),
      ...runControlCommands(this),
      ...breakpointCommands(this),
      ...stateCommands(this),
      vmcsCommand(this),
      ...memoryCommands(this),
      ...infoCommands(this),
      ...scriptCommands(this),
    ];
    for (const c of this.commands) for (const n of [c.name, ...c.aliases]) this.byName.set(n, c);
  }

  command(name: string): CommandDef | undefined { return this.byName.get(name); }

  /** Runs one command line; errors are printed as one "error: ..." line. */
  async execute(line: string, opts: { monitor?: boolean } = {}): Promise<CommandResult> {
    const text = line.trim();
    if (!text || text.startsWith('#')) return { ok: true };
    const [word, ...args] = text.split(/\s+/);
    const rest = text.slice(word.length).trim();
    const cmd = this.byName.get(word.toLowerCase());
    try {
      if (!cmd) throw new DebugError(`unknown command "${word}" (try "help")`);
      if (cmd.name === 'quit') {
        const code = args[0] === undefined ? 0 : Number(parseNumber(args[0], 'exit status'));
        if (code < 0 || code > 255) throw new DebugError('quit: the exit status must be 0..255');
        return { ok: true, quit: true, code };
      }
      if (opts.monitor && cmd.runs) throw new DebugError(`"${cmd.name}" runs the guest: use gdb's own commands (continue, stepi) for that`);
      await cmd.run(args, rest);
      return { ok: true };
    } catch (e) {
      // Bad input is one line; anything else is a debugger bug, still one line (the session stays usable).
      const msg = e instanceof Error ? e.message : String(e);
      const known = e instanceof DebugError || e instanceof VmxError || e instanceof RangeError;
      this.out.line(known ? `error: ${msg}` : `error: internal error in "${word}": ${msg}`);
      return { ok: false };
    }
  }

  /** Command and symbol names for readline's completer. */
  complete(line: string): [string[], string] {
    const words = line.split(/\s+/);
    const last = words[words.length - 1];
    if (words.length <= 1) {
      const names = [...this.byName.keys()].filter((n) => n.startsWith(last)).sort();
      return [names, last];
    }
    const cmd = words[0];
    if (cmd === 'vmcs') return [Object.keys(VMCS_FIELDS).filter((n) => n.startsWith(last.toUpperCase())), last];
    if (cmd === 'help') return [this.commands.map((c) => c.name).filter((n) => n.startsWith(last)), last];
    const bare = last.replace(/^\*/, '');
    if (bare.startsWith('$')) return [REGISTER_NAMES.map((r) => '$' + r).filter((r) => r.startsWith(bare)), last];
    return [this.s.symbols.complete(bare).map((n) => last.slice(0, last.length - bare.length) + n), last];
  }

  /** The lines describing a stop (stops.ts). */
  formatStop(st: Stop): string[] { return formatStop(this.s, st); }

  /** "=> rip: instruction" (stops.ts). */
  locationLine(prefix = '=> '): string { return locationLine(this.s, prefix); }
}
