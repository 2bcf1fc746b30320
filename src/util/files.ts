// Reading and writing the files the CLI is handed: every input is `stat`ed
// first, only regular files are read (a FIFO would block, /dev/zero would grow
// memory without end), and each kind has a size cap; output paths are checked
// before a run starts, so a long run never fails at its end for a bad path.
import { accessSync, closeSync, constants, openSync, readSync, statSync, fstatSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Size caps per kind of input (bytes). */
export const MiB = 1024 * 1024;
export const INPUT_CAPS = {
  image: 256 * MiB,
  'system map': 64 * MiB,
  'launch configuration': 1 * MiB,
  'trace file': 1024 * MiB,
  'debugger script': 16 * MiB,
  'exec input': 1024 * MiB,
  /** A VMI program's WebAssembly module (the bundled ones are tens of KiB). */
  'VMI program': 64 * MiB,
} as const;
export type InputKind = keyof typeof INPUT_CAPS;

export class InputFileError extends Error {
  constructor(readonly file: string, readonly detail: string) { super(`${file}: ${detail}`); }
}
/** An output path that cannot be written (a usage error: exit 2). */
export class OutputPathError extends InputFileError {}

function errCode(e: unknown): string {
  const c = (e as NodeJS.ErrnoException).code;
  if (c === 'ENOENT') return 'no such file';
  if (c === 'EACCES' || c === 'EPERM') return 'permission denied';
  return c ?? String(e);
}

function capText(cap: number): string { return cap % MiB === 0 ? `${cap / MiB} MiB` : `${cap} bytes`; }

/** Checks that `file` is a regular file within the cap for `kind`; returns its size. */
export function checkInputFile(file: string, kind: InputKind, label: string = kind): number {
  let st;
  try { st = statSync(file); } catch (e) { throw new InputFileError(file, `cannot open ${label}: ${errCode(e)}`); }
  if (st.isDirectory()) throw new InputFileError(file, `cannot read ${label}: it is a directory`);
  if (!st.isFile()) throw new InputFileError(file, `cannot read ${label}: not a regular file`);
  const cap = INPUT_CAPS[kind];
  if (st.size > cap) throw new InputFileError(file, `${label} is ${st.size} bytes, over the ${capText(cap)} limit`);
  return st.size;
}

/** Reads a whole input file after checkInputFile; re-checks on the open descriptor (the path may change between). */
export function readInputFile(file: string, kind: InputKind, label: string = kind): Uint8Array {
  checkInputFile(file, kind, label);
  let fd: number;
  try { fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0)); } catch (e) {
    throw new InputFileError(file, `cannot open ${label}: ${errCode(e)}`);
  }
  try {
    const st = fstatSync(fd);
    const cap = INPUT_CAPS[kind];
    if (!st.isFile()) throw new InputFileError(file, `cannot read ${label}: not a regular file`);
    if (st.size > cap) throw new InputFileError(file, `${label} is ${st.size} bytes, over the ${capText(cap)} limit`);
    // Read at most cap + 1 bytes, so a file that grows meanwhile still stops at the cap.
    const buf = new Uint8Array(Math.min(st.size, cap) + 1);
    let n = 0;
    for (;;) {
      let got: number;
      try { got = readSync(fd, buf, n, buf.length - n, null); } catch (e) { throw new InputFileError(file, `cannot read ${label}: ${errCode(e)}`); }
      if (got === 0) break;
      n += got;
      if (n === buf.length) {
        if (n > cap) throw new InputFileError(file, `${label} is over the ${capText(cap)} limit`);
        break;
      }
    }
    return buf.subarray(0, n);
  } finally { closeSync(fd); }
}

/** An input file as text (UTF-8). */
export function readInputText(file: string, kind: InputKind, label: string = kind): string {
  return Buffer.from(readInputFile(file, kind, label)).toString('utf8');
}

/** Checks that `file` can be created or overwritten: its folder exists and is writable, and it is not a folder. */
export function checkOutputFile(file: string, what: string): void {
  const path = resolve(file);
  let st;
  try { st = statSync(path); } catch { st = undefined; }
  if (st?.isDirectory()) throw new OutputPathError(file, `cannot write ${what}: it is a directory`);
  try { accessSync(st ? path : dirname(path), constants.W_OK); } catch (e) {
    throw new OutputPathError(file, `cannot write ${what}: ${errCode(e)}`);
  }
}

/** Checks that `dir` is a writable folder, or can be created (its nearest existing ancestor is writable). */
export function checkOutputDir(dir: string, what: string): void {
  let path = resolve(dir);
  for (;;) {
    let st;
    try { st = statSync(path); } catch { st = undefined; }
    if (st) {
      if (!st.isDirectory()) throw new OutputPathError(dir, `cannot write ${what}: ${path === resolve(dir) ? 'not a directory' : `${path} is not a directory`}`);
      try { accessSync(path, constants.W_OK | constants.X_OK); } catch (e) { throw new OutputPathError(dir, `cannot write ${what}: ${errCode(e)}`); }
      return;
    }
    const up = dirname(path);
    if (up === path) return;
    path = up;
  }
}
