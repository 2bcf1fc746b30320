// The command line: a thin yargs front over the library. Every command is
// also a library call (see src/exec.ts, src/machine.ts).
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { ExecEnv } from './exec.js';

export class UsageError extends Error {}

async function execCommand(batch: string): Promise<number> {
  if (batch !== '-' && !existsSync(batch)) throw new UsageError(`exec: cannot open "${batch}": no such file`);
  const env = await ExecEnv.create();
  const input = batch === '-' ? process.stdin : createReadStream(batch);
  const rl = createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0, errors = 0;
  for await (const line of rl) {
    lineNo++;
    if (line.trim() === '') continue;
    const out = env.runLine(line, lineNo);
    if ('error' in out) errors++;
    process.stdout.write(JSON.stringify(out) + '\n');
  }
  return errors > 0 ? 1 : 0;
}

export async function main(argv: string[]): Promise<void> {
  let code = 0;
  try {
    await yargs(argv)
      .scriptName('vmfunc-vmi')
      .usage('$0 <command> [options]\n\nAn emulator of the VMFUNC-based VMI trigger mechanism (Liu et al., 2017).')
      .command('exec [input]', 'run raw x86-64 code snippets (one JSON object a line) in a fixed user-mode environment',
        (y) => y.option('batch', { type: 'string', describe: 'JSONL file of cases, or - for stdin' })
          .positional('input', { type: 'string', hidden: true })
          .example('$0 exec --batch -', 'read cases from stdin')
          .epilogue('Input:  {"code":"<hex>","regs":{"rax":"0x1",...},"rflags":"0x202","max_insns":N}\n' +
            'Output: {"stop":"end|exception|limit","rip":..,"regs":{..},"rflags":..,"insns":N,"data_fnv1a64":..}'),
        async (a) => {
          // yargs reads a lone "-" as a positional, so `--batch -` arrives as batch "" plus input "-".
          const b = a.batch as string | undefined, inp = a.input as unknown;
          const src = b === '' || inp === true ? '-' : b ?? (typeof inp === 'string' ? inp : undefined);
          if (!src) throw new UsageError('exec: --batch FILE (or - for stdin) is required');
          code = await execCommand(src);
        })
      .demandCommand(1, 'name a command (see --help)')
      .strict()
      .recommendCommands()
      .fail((msg, err, y) => {
        if (err) throw err;
        throw new UsageError(`${msg}\n\n${y.help() && ''}Run "vmfunc-vmi --help" for usage.`);
      })
      .help()
      .version()
      .parseAsync();
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`vmfunc-vmi: ${msg}\n`);
    code = e instanceof UsageError ? 2 : 1;
  }
  process.exitCode = code;
}
