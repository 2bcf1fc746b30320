// What a VMI program leaves behind: its stdout and stderr, captured as they
// are written and bounded (bytes past the bound are counted, not kept, and
// the count is noted at the end), and the files it wrote to its preopened
// /out (held in the WASI library's memory file system during the run),
// copied to the launch configuration's out_dir afterwards.
//
// The sandbox thread appends its output to a SharedArrayBuffer (OUT_LAYOUT,
// travelling to worker.mjs with the job), so Dom0 has it even if it has to
// stop the thread.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The shared output buffer: Int32 [LEN + s] bytes kept of stream s (0 stdout, 1 stderr); BigInt64
 * [s] from DROPPED_BYTE the bytes dropped (a flood passes 2^31 bytes within seconds); stream s's
 * bytes at DATA_BYTE + s * size.
 */
export const OUT_LAYOUT = { LEN: 0, DROPPED_BYTE: 32, DATA_BYTE: 64 } as const;

const td = new TextDecoder();

function withDropNote(text: string, dropped: number): string {
  return dropped > 0 ? `${text}\n[vmi launcher: ${dropped} more bytes dropped]\n` : text;
}

/** Dom0's view of a worker's output buffer, `size` bytes per stream. */
export class SharedOutput {
  readonly buffer: SharedArrayBuffer;
  private readonly ctl: Int32Array;
  private readonly dropped: BigInt64Array;

  constructor(readonly size: number) {
    this.buffer = new SharedArrayBuffer(OUT_LAYOUT.DATA_BYTE + 2 * size);
    this.ctl = new Int32Array(this.buffer, 0, 8);
    this.dropped = new BigInt64Array(this.buffer, OUT_LAYOUT.DROPPED_BYTE, 2);
  }

  /** Stream `s` (0 stdout, 1 stderr) as text, with the dropped-bytes note. */
  text(s: number): string {
    const n = Atomics.load(this.ctl, OUT_LAYOUT.LEN + s), dropped = Number(Atomics.load(this.dropped, s));
    return withDropNote(td.decode(new Uint8Array(this.buffer, OUT_LAYOUT.DATA_BYTE + s * this.size, n).slice()), dropped);
  }
}

/** Copies the files a program wrote to /out into `outDir` (flat names only); returns their host paths. */
export function writeOutFiles(files: Array<{ name: string; data: Uint8Array }>, outDir: string | undefined): string[] {
  if (!outDir || files.length === 0) return [];
  mkdirSync(outDir, { recursive: true });
  const paths: string[] = [];
  for (const f of files) {
    if (!/^[^/\\]+$/.test(f.name) || f.name === '.' || f.name === '..') continue;
    const p = join(outDir, f.name);
    writeFileSync(p, f.data);
    paths.push(p);
  }
  return paths;
}
