// dump-memory: LibVMI's example of the same name, for a sandbox. Reads
// guest-physical memory frame by frame (frames that cannot be read are
// written as zeros, as LibVMI does) into a file in a preopened directory
// (the launcher preopens /out and copies what is written there to the
// directory Dom0 names), and prints the FNV-1a 64 hash of what it read,
// so it is useful without a file system too.
//
// Usage: dump-memory <domid> <eptp_index> [file] [start] [length]
//   file defaults to /out/memory-<domid>.raw ("-" for no file); start and
//   length are hex or decimal, default the whole of guest memory.
import { print, eprint, exit, createFile, closeFile, writeBytes } from "../lib/wasi";
import { parseU64, parseOk, hex, hexPad } from "../lib/fmt";
import { invocation } from "../lib/common";
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
  if (!parseOk || (start & 0xfff) != 0) { eprint("dump-memory: bad start \"" + args[4] + "\" (a page-aligned address)\n"); exit(1); }
}
let length: u64 = start < memsize ? memsize - start : 0;
if (args.length > 5) {
  length = parseU64(args[5]);
  if (!parseOk || length == 0 || (length & 0xfff) != 0) { eprint("dump-memory: bad length \"" + args[5] + "\" (a multiple of 4096)\n"); exit(1); }
}

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

const buf = new Uint8Array(CHUNK);
let framesRead: u64 = 0, framesZero: u64 = 0;
let addr = start;
const end = start + length;
while (addr < end) {
  const want = <i32>min<u64>(<u64>CHUNK, end - addr);
  let got = vmi_read_pa(addr, want == CHUNK ? buf : buf.subarray(0, want));
  if (got < want) {
    // Some frame in this chunk is not readable: go frame by frame, zeros for the missing ones.
    for (let off = 0; off < want; off += FRAME) {
      const frame = buf.subarray(off, off + FRAME);
      if (vmi_read_pa(addr + <u64>off, frame) != FRAME) { frame.fill(0); framesZero++; } else framesRead++;
    }
  } else {
    framesRead += <u64>(want / FRAME);
  }
  fnv(buf, want);
  if (fd >= 0 && !writeBytes(<u32>fd, buf.dataStart, <usize>want)) {
    print("Failed to save frame.\n");
    exit(1);
  }
  addr += <u64>want;
}
if (fd >= 0) closeFile(fd);
print("Dumped " + length.toString() + " bytes of guest-physical memory [0x" + hex(start) + ", 0x" + hex(end) + ")" +
  (fd >= 0 ? " to " + file : "") + ": " + framesRead.toString() + " frames read, " + framesZero.toString() +
  " unreadable (written as zeros); fnv1a64 " + hexPad(hash, 16) + "\n");
