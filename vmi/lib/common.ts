// What every bundled VMI program does first: read argv as the launcher
// passes it ([program, domid, eptp_index, ...]) and check that the domain
// it names is the one this sandbox introspects.
import { argv, eprint, exit } from "./wasi";
import { parseI32, parseOk } from "./fmt";
import { vmi_get_vmid } from "./libvmi";

// Exit codes of the bundled programs (vmi/README.md): 0 done and consistent;
// 1 bad arguments or a read LibVMI itself would fail on (no init_task, no
// offset); 2 syscall-check found a hooked entry; 3 the snapshot was
// inconsistent: the guest changed what the program was reading (a torn walk
// or read), reported instead of printing garbage.
export const EXIT_ERROR: i32 = 1;
export const EXIT_HOOKED: i32 = 2;
export const EXIT_INCONSISTENT: i32 = 3;

export class Invocation {
  constructor(public args: string[], public domid: i32, public eptpIndex: i32) {}
}

/** Parses [program, domid, eptp_index?, ...]; prints `usage` and exits 1 on bad arguments. */
export function invocation(usage: string, minArgs: i32 = 2): Invocation {
  const args = argv();
  const prog = args.length > 0 ? args[0] : "vmi-program";
  if (args.length < minArgs || args.length < 2) {
    eprint("Usage: " + prog + " " + usage + "\n");
    exit(EXIT_ERROR);
  }
  const domid = parseI32(args[1]);
  if (!parseOk || domid < 0) {
    eprint(prog + ": bad domain id \"" + args[1] + "\"\nUsage: " + prog + " " + usage + "\n");
    exit(EXIT_ERROR);
  }
  let index: i32 = -1;
  if (args.length > 2) {
    index = parseI32(args[2]);
    if (!parseOk || index < 0) {
      eprint(prog + ": bad EPTP index \"" + args[2] + "\"\nUsage: " + prog + " " + usage + "\n");
      exit(EXIT_ERROR);
    }
  }
  const vmid = vmi_get_vmid();
  if (<u64>domid != vmid) {
    eprint(prog + ": this sandbox introspects domain " + vmid.toString() + ", not domain " + domid.toString() + "\n");
    exit(EXIT_ERROR);
  }
  return new Invocation(args, domid, index);
}
