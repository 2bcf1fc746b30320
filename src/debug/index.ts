// `vmfunc-vmi debug` as a library call: boot the image into a debugging
// session, then run a script, serve gdb, or read commands interactively.
import { readInputText, InputFileError } from '../util/files.js';
import type { Readable } from 'node:stream';
import { DebugSession, type DebugOptions } from './session.js';
import { Debugger } from './debugger.js';
import { Output } from './output.js';
import { runScript, interactive } from './console.js';
import { serveGdb } from './gdbstub.js';
import { DebugError } from './format.js';

export { DebugSession } from './session.js';
export { Debugger } from './debugger.js';
export { Output } from './output.js';
export { runScript } from './console.js';
export { GdbServer, serveGdb } from './gdbstub.js';

export interface DebugCommandOptions extends Omit<DebugOptions, 'onConsole' | 'onLog' | 'onDom0Log'> {
  /** Commands to run (a file); with gdb, they run before the stub starts. */
  script?: string;
  /** Serve gdb's remote protocol on this loopback TCP port (0: any free port). */
  gdbPort?: number;
  /** Drop the guest's console and the hypervisor's log. */
  quiet?: boolean;
  /** Where everything is written (default stdout). */
  write?: (text: string) => void;
  input?: Readable;
  /** Called when the gdb stub listens (with its port). */
  onGdbListening?: (port: number) => void;
}

/** Runs the debugger; resolves to the exit status. */
export async function debugCommand(o: DebugCommandOptions): Promise<number> {
  let scriptText: string | undefined;
  if (o.script !== undefined) {
    try { scriptText = readInputText(o.script, 'debugger script', 'the script'); } catch (e) {
      if (e instanceof InputFileError) throw new DebugError(e.message);
      throw e;
    }
  }
  const out = new Output(o.write ?? ((t) => { process.stdout.write(t); }));
  out.showGuest = !o.quiet;
  const session = await DebugSession.create({
    ...o,
    onConsole: (b) => out.console(b),
    onLog: (l) => out.log('(XEN)', l),
    onDom0Log: (l) => out.log('(dom0)', l),
  });
  const dbg = new Debugger(session, out);
  let code = 0;
  if (scriptText !== undefined) {
    code = await runScript(dbg, scriptText, { file: o.script });
    if (code !== 0 || o.gdbPort === undefined) return code;
  }
  if (o.gdbPort !== undefined) return serveGdb(dbg, o.gdbPort, { onListening: o.onGdbListening });
  return interactive(dbg, o.input ?? process.stdin, process.stdout);
}
