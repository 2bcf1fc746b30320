// The two ways to drive the debugger's commands from text: a script (each
// line echoed after the prompt, as a transcript of the same session typed by
// hand would read, stopping at the first error) and the interactive console
// (readline with history and completion; Ctrl-C stops a running guest,
// an empty line repeats a running command, as in gdb).
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { readFileSync, appendFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Debugger, PROMPT } from './debugger.js';

/** The console's history file: $VMFUNC_VMI_HISTORY, else ~/.vmfunc_vmi_history ("" turns it off). */
export function historyFile(): string | undefined {
  const env = process.env.VMFUNC_VMI_HISTORY;
  if (env !== undefined) return env || undefined;
  try { return join(homedir(), '.vmfunc_vmi_history'); } catch { return undefined; }
}
function loadHistory(file: string | undefined): string[] {
  if (!file) return [];
  try { return readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-1000).reverse(); } catch { return []; }
}

/** Exit status of a script: 0 when every command ran, 1 at the first failing one, or quit's status. */
export async function runScript(dbg: Debugger, text: string, opts: { file?: string } = {}): Promise<number> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    dbg.out.line(PROMPT + line);
    const r = await dbg.execute(line);
    if (!r.ok) {
      dbg.out.line(`error: ${opts.file ?? 'script'} line ${i + 1}: stopped at the failing command`);
      return 1;
    }
    if (r.quit) return r.code ?? 0;
  }
  return 0;
}

/** Reads commands from `input` until quit or end of input; returns quit's status (0 at end of input). */
export async function interactive(dbg: Debugger, input: Readable, output: Writable): Promise<number> {
  const terminal = (input as { isTTY?: boolean }).isTTY === true && (output as { isTTY?: boolean }).isTTY === true;
  const histFile = terminal ? historyFile() : undefined;
  const rl: Interface = createInterface({
    input, output, terminal, historySize: 1000, removeHistoryDuplicates: true, prompt: PROMPT,
    completer: (line: string) => dbg.complete(line), history: loadHistory(histFile),
  });
  let running = false;
  let last = '';
  rl.on('SIGINT', () => {
    if (running) { dbg.s.interruptRequested = true; return; }
    output.write('^C\n');
    if (terminal) rl.prompt();
  });
  // Ctrl-C while the guest runs arrives as SIGINT when readline is not reading (not a TTY, or paused).
  const onSigint = () => { if (running) dbg.s.interruptRequested = true; else { rl.close(); } };
  process.on('SIGINT', onSigint);
  try {
    dbg.out.line(`vmfunc-vmi debugger: ${dbg.s.image} booted, stopped before its first instruction. "help" lists the commands.`);
    dbg.out.lines([dbg.locationLine()]);
    // On a terminal readline shows the prompt; from a pipe, each command is echoed after it, as in a script's transcript.
    const prompt = () => { if (terminal) rl.prompt(); };
    prompt();
    for await (const raw of rl) {
      let line = raw.trim();
      if (!line && last && terminal) line = last; // repeat step/next-exit/continue on an empty line
      if (line && !terminal) dbg.out.line(PROMPT + line);
      if (raw.trim() && histFile) { try { appendFileSync(histFile, raw.trim() + '\n'); } catch { /* no history then */ } }
      if (line) {
        running = true;
        let r;
        try { r = await dbg.execute(line); } finally { running = false; }
        const word = line.split(/\s+/)[0];
        last = dbg.commands.find((c) => c.name === word || c.aliases.includes(word))?.runs ? line : '';
        if (r.quit) { rl.close(); return r.code ?? 0; }
      }
      prompt();
    }
    return 0;
  } finally {
    process.off('SIGINT', onSigint);
    rl.close();
  }
}
