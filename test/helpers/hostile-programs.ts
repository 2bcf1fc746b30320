// Hostile VMI programs (hand-assembled WASI commands, test/helpers/wasm.ts): each misbehaves in one
// way a sandbox must contain -- a loop without calls, a flood of stdout or of stderr, memory growth
// to the limit, a trap, a path that leaves the preopened directory. Used by test/vmi-hostile.test.ts
// in every mode and by the fuzz suites (test/fuzz/vmi-programs.test.ts).
import { I32, I64, wasm, i32c, call, DROP, LOOP_FOREVER, type Imp } from './wasm.js';

export const fdWrite: Imp = { mod: 'wasi_snapshot_preview1', name: 'fd_write', params: [I32, I32, I32, I32], results: [I32] };
export const procExit: Imp = { mod: 'wasi_snapshot_preview1', name: 'proc_exit', params: [I32], results: [] };
export const pathOpen: Imp = { mod: 'wasi_snapshot_preview1', name: 'path_open', params: [I32, I32, I32, I32, I32, I64, I64, I32, I32], results: [I32] };

const iovec = (ptr: number, len: number) => { const b = new Uint8Array(8); const d = new DataView(b.buffer); d.setUint32(0, ptr, true); d.setUint32(4, len, true); return b; };
/** fd_write(fd, iovec at 16 -> [64, len)) with fd_write import 0, its result dropped. */
const writeAt64 = (fd: number) => [...i32c(fd), ...i32c(16), ...i32c(1), ...i32c(8), ...call(0), DROP];

/** Prints a line, then loops without calling anything. */
export const loopProgram = () => wasm({ imports: [fdWrite], start: [...writeAt64(1), ...LOOP_FOREVER],
  data: [[16, iovec(64, 20)], [64, 'hello from the loop\n']] });

/** Writes 4 KiB blocks to `fd` (1 stdout, 2 stderr) for ever. */
export const floodProgram = (fd: 1 | 2) => wasm({ imports: [fdWrite], start: [0x03, 0x40, ...writeAt64(fd), 0x0c, 0x00, 0x0b],
  data: [[16, iovec(64, 4096)], [64, 'x'.repeat(4095) + '\n']] });

/** Grows its memory a page at a time until memory.grow fails, then exits with its size in pages. */
export const growProgram = () => wasm({ imports: [procExit], start: [
  0x03, 0x40,                                   // loop
  ...i32c(1), 0x40, 0x00, ...i32c(-1), 0x46,    //   memory.grow(1) == -1
  0x04, 0x40, 0x3f, 0x00, ...call(0), 0x0b,     //   if: proc_exit(memory.size)
  0x0c, 0x00, 0x0b] });                         //   br loop

/** Traps at once (unreachable). */
export const trapProgram = () => wasm({ start: [0x00] });

/** path_open(3 = the preopened /out, `path`, O_CREAT) and exits with the WASI errno it returned (0: opened). */
export const pathOpenProgram = (path: string) => wasm({ imports: [pathOpen, procExit], start: [
  ...i32c(3), ...i32c(0), ...i32c(64), ...i32c(new TextEncoder().encode(path).length), ...i32c(1),
  0x42, 0x7f, 0x42, 0x7f, ...i32c(0), ...i32c(32), ...call(0), ...call(1)],
  data: [[64, path]] });

export interface HostileCase { name: string; program: () => Uint8Array }
export const HOSTILE: HostileCase[] = [
  { name: 'loop', program: loopProgram },
  { name: 'stdout-flood', program: () => floodProgram(1) },
  { name: 'stderr-flood', program: () => floodProgram(2) },
  { name: 'memory-grow', program: growProgram },
  { name: 'trap', program: trapProgram },
  { name: 'path-escape', program: () => pathOpenProgram('../x') },
];
