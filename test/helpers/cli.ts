// Runs the CLI in-process (src/cli.ts main) and captures what it writes.
import { main } from '../../src/cli.js';

export interface CliResult { code: number; stdout: string; stderr: string }

export async function runCli(args: string[]): Promise<CliResult> {
  const out: string[] = [], err: string[] = [];
  const ow = process.stdout.write, ew = process.stderr.write;
  const grab = (sink: string[]) => ((chunk: string | Uint8Array) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1'));
    return true;
  }) as typeof process.stdout.write;
  const savedCode = process.exitCode;
  process.stdout.write = grab(out);
  process.stderr.write = grab(err);
  try {
    await main(args);
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = savedCode;
  return { code, stdout: out.join(''), stderr: err.join('') };
}
