// map-addr: LibVMI's example of the same name. Reads a page (or `length`
// bytes) at a virtual address and prints it as vmi_print_hex does:
//   %.8x|  8 bytes "%.2x " ' ' 8 bytes "%.2x " "  " ASCII
//
// Usage: map-addr <domid> <eptp_index> <hex address> [pid] [length]
//   pid 0 (the default) is the kernel's address space.
import { print, eprint, exit } from "../lib/wasi";
import { parseU64, parseI32, parseOk, hexdump } from "../lib/fmt";
import { invocation } from "../lib/common";
import { vmi_read_va } from "../lib/libvmi";

const PAGE_SIZE: i32 = 1 << 12;
const USAGE = "<domid> <eptp_index> <hex address> [pid] [length]";

const inv = invocation(USAGE, 4);
const args = inv.args;
const addr = parseU64(args[3], 16);
if (!parseOk) { eprint("map-addr: bad address \"" + args[3] + "\"\nUsage: map-addr " + USAGE + "\n"); exit(1); }
let pid: i32 = 0;
if (args.length > 4) {
  pid = parseI32(args[4]);
  if (!parseOk || pid < 0) { eprint("map-addr: bad pid \"" + args[4] + "\"\n"); exit(1); }
}
let length: i32 = PAGE_SIZE;
if (args.length > 5) {
  length = parseI32(args[5]);
  if (!parseOk || length <= 0 || length > (16 << 20)) { eprint("map-addr: bad length \"" + args[5] + "\" (1..16777216)\n"); exit(1); }
}

const memory = new Uint8Array(length);
/* get the symbol's memory page */
if (vmi_read_va(addr, pid, memory) != length) {
  print("failed to map memory.\n");
  exit(1);
}
print(hexdump(memory, length));
