// What a debugger command is, and what it runs against. Each file beside this one defines one
// group of commands (run control, breakpoints, registers and the VMCS, memory, the hypervisor's
// records, help); src/debug/debugger.ts puts them in one table and dispatches a line to them.
import type { DebugSession } from '../session.js';
import type { Output } from '../output.js';

export interface CommandDef {
  name: string;
  aliases: string[];
  usage: string;
  summary: string;
  help: string[];
  /** Runs the guest (not allowed from gdb's monitor, where gdb owns execution). */
  runs?: boolean;
  run(args: string[], rest: string): Promise<void> | void;
}

/** The session a command acts on, where it writes, and the command table (for help). */
export interface CommandContext {
  readonly s: DebugSession;
  readonly out: Output;
  readonly commands: readonly CommandDef[];
  command(name: string): CommandDef | undefined;
}
