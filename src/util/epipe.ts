// A closed reader on stdout or stderr (`vmfunc-vmi run | head -c 10`) is not
// an error of ours: Node reports it as an 'error' event with code EPIPE, which
// uncaught kills the process with a stack trace. We end quietly instead, as
// a C program killed by SIGPIPE would, but with a normal exit status.
import type { Writable } from 'node:stream';

const guarded = new WeakSet<Writable>();

/** On EPIPE from `stream`, calls `end` (once); other errors are rethrown. Installs once per stream. */
export function endQuietlyOnEpipe(stream: Writable, end: () => void): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  let ended = false;
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    if (!ended) { ended = true; end(); }
  });
}
