// What every long-run script in scripts/ shares: `--name value` options with defaults, `--help`,
// and a vitest run of one test file with settings passed in the environment (the test reads them),
// ending with vitest's exit status.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The script's options: `opt(name, default)`; prints `usage` and exits on --help / -h. */
export function options(usage) {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    console.log(`usage: ${usage}`);
    process.exit(0);
  }
  return (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
  };
}

/** Runs `vitest run FILE [-t FILTER]` with `env` added to the environment; exits with its status. */
export function runVitest(file, filter, env) {
  const vitest = join(root, 'node_modules', '.bin', 'vitest');
  const child = spawn(vitest, ['run', file, ...(filter ? ['-t', filter] : [])], { cwd: root, env: { ...process.env, ...env }, stdio: 'inherit' });
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
}
