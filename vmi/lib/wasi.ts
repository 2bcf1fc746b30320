// The few WASI (wasi_snapshot_preview1) calls a VMI program needs, imported
// directly: arguments, environment, stdout/stderr, files in a preopened
// directory, exit.
// No shim package: each function here is one WASI import with its ABI.

@external("wasi_snapshot_preview1", "args_sizes_get")
declare function args_sizes_get(argc: usize, argv_buf_size: usize): u16;
@external("wasi_snapshot_preview1", "args_get")
declare function args_get(argv: usize, argv_buf: usize): u16;
@external("wasi_snapshot_preview1", "environ_sizes_get")
declare function environ_sizes_get(count: usize, buf_size: usize): u16;
@external("wasi_snapshot_preview1", "environ_get")
declare function environ_get(environ: usize, environ_buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_write")
declare function fd_write(fd: u32, iovs: usize, iovs_len: usize, nwritten: usize): u16;
@external("wasi_snapshot_preview1", "fd_close")
declare function fd_close(fd: u32): u16;
@external("wasi_snapshot_preview1", "fd_prestat_get")
declare function fd_prestat_get(fd: u32, buf: usize): u16;
@external("wasi_snapshot_preview1", "fd_prestat_dir_name")
declare function fd_prestat_dir_name(fd: u32, path: usize, path_len: usize): u16;
@external("wasi_snapshot_preview1", "path_open")
declare function path_open(dirfd: u32, dirflags: u32, path: usize, path_len: usize, oflags: u16,
  rights_base: u64, rights_inheriting: u64, fdflags: u16, fd: usize): u16;
@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

export const STDOUT: u32 = 1;
export const STDERR: u32 = 2;

// One scratch area for iovecs and out-values (programs are single-threaded).
const scratch = memory.data(32);

/** Writes all of [ptr, ptr+len) to `fd`; false on a WASI error. */
export function writeBytes(fd: u32, ptr: usize, len: usize): bool {
  while (len > 0) {
    store<u32>(scratch, <u32>ptr);
    store<u32>(scratch + 4, <u32>len);
    if (fd_write(fd, scratch, 1, scratch + 8) != 0) return false;
    const n = <usize>load<u32>(scratch + 8);
    if (n == 0) return false;
    ptr += n; len -= n;
  }
  return true;
}

export function writeString(fd: u32, s: string): bool {
  const buf = String.UTF8.encode(s);
  return writeBytes(fd, changetype<usize>(buf), <usize>buf.byteLength);
}

/** Prints to stdout (no newline added, like C's fputs). */
export function print(s: string): void { writeString(STDOUT, s); }
/** Prints to stderr. */
export function eprint(s: string): void { writeString(STDERR, s); }

/** Ends the program with `code` (WASI proc_exit). */
export function exit(code: i32): void { proc_exit(<u32>code); }

/** The command line (argv[0] is the program name). */
export function argv(): string[] {
  const sizes = scratch + 16;
  if (args_sizes_get(sizes, sizes + 4) != 0) return [];
  const argc = <i32>load<u32>(sizes);
  const bufSize = <i32>load<u32>(sizes + 4);
  const ptrs = new ArrayBuffer(argc * 4);
  const buf = new ArrayBuffer(bufSize);
  if (args_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return [];
  const out = new Array<string>(argc);
  for (let i = 0; i < argc; i++) {
    const p = <usize>load<u32>(changetype<usize>(ptrs) + <usize>i * 4);
    let n: usize = 0;
    while (load<u8>(p + n) != 0) n++;
    out[i] = String.UTF8.decodeUnsafe(p, n);
  }
  return out;
}

/** getenv(3): the value of `name` in the environment Dom0 gave the program, or null. */
export function getenv(name: string): string | null {
  const sizes = scratch + 16;
  if (environ_sizes_get(sizes, sizes + 4) != 0) return null;
  const count = <i32>load<u32>(sizes);
  const bufSize = <i32>load<u32>(sizes + 4);
  if (count == 0) return null;
  const ptrs = new ArrayBuffer(count * 4);
  const buf = new ArrayBuffer(bufSize);
  if (environ_get(changetype<usize>(ptrs), changetype<usize>(buf)) != 0) return null;
  const prefix = name + "=";
  for (let i = 0; i < count; i++) {
    const p = <usize>load<u32>(changetype<usize>(ptrs) + <usize>i * 4);
    let n: usize = 0;
    while (load<u8>(p + n) != 0) n++;
    const entry = String.UTF8.decodeUnsafe(p, n);
    if (entry.startsWith(prefix)) return entry.substring(prefix.length);
  }
  return null;
}

/**
 * Opens `path` for writing (created, truncated) inside the preopened
 * directory whose name is its longest matching prefix; returns the fd, or -1.
 */
export function createFile(path: string): i32 {
  let best: i32 = -1;
  let bestLen: i32 = -1;
  for (let fd: u32 = 3; fd < 64; fd++) {
    if (fd_prestat_get(fd, scratch) != 0) break;           // EBADF: no more preopens
    if (load<u8>(scratch) != 0) continue;                  // not a directory
    const nameLen = <i32>load<u32>(scratch + 4);
    const nameBuf = new ArrayBuffer(nameLen);
    if (fd_prestat_dir_name(fd, changetype<usize>(nameBuf), <usize>nameLen) != 0) continue;
    let name = String.UTF8.decode(nameBuf);
    while (name.length > 1 && name.endsWith("/")) name = name.substring(0, name.length - 1);
    const prefix = name == "/" ? "/" : name + "/";
    const matches = name == "." ? !path.startsWith("/") : path.startsWith(prefix);
    if (matches && name.length > bestLen) { best = <i32>fd; bestLen = name.length; }
  }
  if (best < 0) return -1;
  let rel = path;
  if (bestLen > 0 && path.startsWith("/")) rel = path.substring(bestLen == 1 ? 1 : bestLen + 1);
  const p = String.UTF8.encode(rel);
  const OFLAGS_CREAT: u16 = 1, OFLAGS_TRUNC: u16 = 8;
  const RIGHTS_ALL: u64 = 0x1fffffff;
  if (path_open(<u32>best, 0, changetype<usize>(p), <usize>p.byteLength, OFLAGS_CREAT | OFLAGS_TRUNC,
    RIGHTS_ALL, RIGHTS_ALL, 0, scratch) != 0) return -1;
  return <i32>load<u32>(scratch);
}

export function closeFile(fd: i32): void { fd_close(<u32>fd); }

/**
 * The program's abort handler (asc --use abort=...): an AssemblyScript
 * assertion or bounds failure prints its message on stderr and traps, so
 * the launcher reports it as a trap.
 */
export function vmiAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let s = "abort: " + (message !== null ? message : "(no message)");
  if (fileName !== null) s += " at " + fileName + ":" + line.toString() + ":" + column.toString();
  eprint(s + "\n");
  unreachable();
}
