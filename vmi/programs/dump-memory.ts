// dump-memory: LibVMI's example of the same name, for a sandbox. Reads
// guest-physical memory frame by frame (frames that cannot be read are
// written as zeros, as LibVMI does) into a file in a preopened directory
// (the launcher preopens /out and copies what is written there to the
// directory Dom0 names), and prints the FNV-1a 64 hash of what it read,
// so it is useful without a file system too.
//
// The guest keeps running while it is dumped, so a dump is no snapshot of
// one instant unless nothing changed: a second pass re-reads every frame
// and compares it with the first read (a 32-bit hash per frame). Frames
// that differ, or were readable in one pass and not in the other, changed
// during the dump; then the summary is followed by "inconsistent snapshot:
// <n> of <m> frames changed ..." and the exit code is 3. The file holds the
// first pass.
//
// Usage: dump-memory <domid> <eptp_index> [file] [start] [length]
//   file defaults to /out/memory-<domid>.raw ("-" for no file); start and
//   length are hex or decimal, default the whole of guest memory.
import { print, eprint, exit, createFile, closeFile, writeBytes } from "../lib/wasi";
import { parseU64, parseOk, hex, hexPad } from "../lib/fmt";
import { invocation, EXIT_ERROR, EXIT_INCONSISTENT } from "../lib/common";
import { vmi_read_pa, vmi_get_memsize } from "../lib/libvmi";

const FRAME: i32 = 4096;
const CHUNK: i32 = 64 * 1024;
const USAGE = "<domid> <eptp_index> [file|-] [start] [length]";

const inv = invocation(USAGE);
const args = inv.args;
const file = args.length > 3 ? args[3] : "/out/memory-" + inv.domid.toString() + ".raw";
const memsize = vmi_get_memsize();
let start: u64 = 0;
if (args.length > 4) {
  start = parseU64(args[4]);
  if (!parseOk || (start & 0xfff) != 0) { eprint("dump-memory: bad start \"" + args[4] + "\" (a page-aligned address)\n"); exit(EXIT_ERROR); }
}
let length: u64 = start < memsize ? memsize - start : 0;
if (args.length > 5) {
  length = parseU64(args[5]);
  if (!parseOk || length == 0 || (length & 0xfff) != 0) { eprint("dump-memory: bad length \"" + args[5] + "\" (a multiple of 4096)\n"); exit(EXIT_ERROR); }
}

// The second pass keeps 4 bytes per frame: 64 MiB for 64 GiB.
if (length > (<u64>1 << 36)) { eprint("dump-memory: " + length.toString() + " bytes is more than it can verify (64 GiB at most)\n"); exit(EXIT_ERROR); }

let fd: i32 = -1;
if (file != "-") {
  fd = createFile(file);
  if (fd < 0) print("dump-memory: cannot create " + file + " (not in a preopened directory); printing the hash only\n");
}

// FNV-1a 64 over the dumped bytes.
let hash: u64 = 0xcbf29ce484222325;
function fnv(buf: Uint8Array, n: i32): void {
  let h = hash;
  for (let i = 0; i < n; i++) { h ^= <u64>unchecked(buf[i]); h *= 0x100000001b3; }
  hash = h;
}

/** A frame's fingerprint for the second pass: FNV-1a 32 of its bytes, 0 for an unreadable frame (never a hash). */
function frameMark(buf: Uint8Array, off: i32, readable: bool): u32 {
  if (!readable) return 0;
  let h: u32 = 0x811c9dc5;
  for (let i = off; i < off + FRAME; i++) { h ^= <u32>unchecked(buf[i]); h *= 0x01000193; }
  return h == 0 ? 1 : h;
}

/**
 * Reads [at, at+want) into buf, frame by frame where a frame is not readable
 * (zeros for it, as LibVMI writes); each frame's mark into marks[first...].
 * Returns the unreadable frames.
 */
function readChunk(at: u64, want: i32, marks: Uint32Array, first: i32): i32 {
  let zero = 0;
  if (vmi_read_pa(at, want == CHUNK ? buf : buf.subarray(0, want)) < want) {
    // Some frame in this chunk is not readable: go frame by frame, zeros for the missing ones.
    for (let off = 0; off < want; off += FRAME) {
      const frame = buf.subarray(off, off + FRAME);
      const ok = vmi_read_pa(at + <u64>off, frame) == FRAME;
      if (!ok) { frame.fill(0); zero++; }
      marks[first + off / FRAME] = frameMark(buf, off, ok);
    }
  } else {
    for (let off = 0; off < want; off += FRAME) marks[first + off / FRAME] = frameMark(buf, off, true);
  }
  return zero;
}

const buf = new Uint8Array(CHUNK);
const frames = <i32>(length / <u64>FRAME);
const marks = new Uint32Array(frames);
let framesRead: u64 = 0, framesZero: u64 = 0;
let addr = start;
const end = start + length;
while (addr < end) {
  const want = <i32>min<u64>(<u64>CHUNK, end - addr);
  const zero = readChunk(addr, want, marks, <i32>((addr - start) / <u64>FRAME));
  framesZero += <u64>zero;
  framesRead += <u64>(want / FRAME - zero);
  fnv(buf, want);
  if (fd >= 0 && !writeBytes(<u32>fd, buf.dataStart, <usize>want)) {
    print("Failed to save frame.\n");
    exit(EXIT_ERROR);
  }
  addr += <u64>want;
}
if (fd >= 0) closeFile(fd);
print("Dumped " + length.toString() + " bytes of guest-physical memory [0x" + hex(start) + ", 0x" + hex(end) + ")" +
  (fd >= 0 ? " to " + file : "") + ": " + framesRead.toString() + " frames read, " + framesZero.toString() +
  " unreadable (written as zeros); fnv1a64 " + hexPad(hash, 16) + "\n");

// The second pass: which frames changed since they were dumped.
const again = new Uint32Array(min<i32>(frames, CHUNK / FRAME));
let changed = 0, flipped = 0;
let firstChanged: u64 = 0;
for (addr = start; addr < end; addr += <u64>CHUNK) {
  const want = <i32>min<u64>(<u64>CHUNK, end - addr);
  readChunk(addr, want, again, 0);
  const base = <i32>((addr - start) / <u64>FRAME);
  for (let f = 0; f < want / FRAME; f++) {
    const was = marks[base + f], now = again[f];
    if (was == now) continue;
    if (changed == 0) firstChanged = addr + <u64>(f * FRAME);
    changed++;
    if (was == 0 || now == 0) flipped++;
  }
}
if (changed > 0) {
  print("inconsistent snapshot: " + changed.toString() + " of " + frames.toString() + " frames changed during the dump (the first at 0x" +
    hex(firstChanged) + "; " + flipped.toString() + " became readable or unreadable); the dump holds each frame as first read\n");
  exit(EXIT_INCONSISTENT);
}
