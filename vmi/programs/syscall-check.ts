// syscall-check: the system-call table integrity check. Reads each entry
// of the guest's `sys_call_table` and checks, against the System.map, that
// it points exactly at a system-call entry point (a symbol named sys_*,
// __x64_sys_*, __ia32_sys_*, __se_sys_* or __do_sys_*); any other target is
// a hook, as a rootkit installs one (into a module, the kernel's data, user
// memory: anywhere canonical). The guest keeps running, so what is read is
// checked first: the table must lie in the kernel image, and an entry that
// cannot be read, is NULL or is not a canonical address is no hook (the CPU
// could not even jump there) but a torn read: the check stops there and
// says "inconsistent snapshot: <why>".
//
// Usage: syscall-check <domid> <eptp_index> [entries]
//   entries defaults to the profile's linux_nr_syscalls.
// Exit code 0: the table is clean; 2: at least one entry is hooked; 1: error;
// 3: inconsistent snapshot (it wins over 2: the entries after it were not checked).
import { print, eprint, exit } from "../lib/wasi";
import { parseI32, parseOk, dec, hex } from "../lib/fmt";
import { invocation, EXIT_ERROR, EXIT_HOOKED, EXIT_INCONSISTENT } from "../lib/common";
import { linuxKernelRanges, isCanonical } from "../lib/kernel-ranges";
import {
  vmi_get_name, vmi_get_vmid, vmi_translate_ksym2v, vmi_read_addr_va, vmi_translate_v2ksym, vmi_get_offset, ok,
} from "../lib/libvmi";

const USAGE = "<domid> <eptp_index> [entries]";
const inv = invocation(USAGE);
let count: i32 = 0;
if (inv.args.length > 3) {
  count = parseI32(inv.args[3]);
  if (!parseOk || count <= 0 || count > 4096) { eprint("syscall-check: bad entry count \"" + inv.args[3] + "\" (1..4096)\n"); exit(EXIT_ERROR); }
} else {
  const n = vmi_get_offset("linux_nr_syscalls");
  if (!ok() || n == 0 || n > 4096) {
    eprint("syscall-check: give the number of entries, or linux_nr_syscalls in the profile\nUsage: syscall-check " + USAGE + "\n");
    exit(EXIT_ERROR);
  }
  count = <i32>n;
}

const table = vmi_translate_ksym2v("sys_call_table");
if (!ok()) { print("Failed to find sys_call_table\n"); exit(EXIT_ERROR); }
if (!linuxKernelRanges().inImage(table) || !linuxKernelRanges().inImage(table + <u64>(count * 8 - 1))) {
  print("sys_call_table at " + hex(table) + " is outside the kernel image\n");
  exit(EXIT_ERROR);
}
print("System call table of VM " + vmi_get_name() + " (id=" + vmi_get_vmid().toString() + ") at " + hex(table) +
  ", " + count.toString() + " entries\n");

function isEntryPoint(name: string): bool {
  return name.startsWith("sys_") || name.startsWith("__x64_sys_") || name.startsWith("__ia32_sys_") ||
    name.startsWith("__se_sys_") || name.startsWith("__do_sys_");
}

let hooked = 0;
for (let i = 0; i < count; i++) {
  const target = vmi_read_addr_va(table + <u64>(i * 8), 0);
  const torn = !ok() ? "at " + hex(table + <u64>(i * 8)) + " cannot be read" :
    target == 0 ? "is NULL" : !isCanonical(target) ? "holds " + hex(target) + ", not a canonical address" : "";
  if (torn != "") {
    print("inconsistent snapshot: sys_call_table[" + i.toString() + "] " + torn + " (the guest changed it during the read)\n");
    exit(EXIT_INCONSISTENT);
  }
  const name = vmi_translate_v2ksym(target);
  if (name === null || !isEntryPoint(name)) {
    hooked++;
    print("[" + dec(i, 5) + "] " + hex(target) + " " + (name === null ? "(no symbol)" : name) + " <- HOOKED\n");
  }
}
if (hooked == 0) print("No hooked entries.\n");
else print(hooked.toString() + " of " + count.toString() + " entries hooked.\n");
if (hooked > 0) exit(EXIT_HOOKED);
