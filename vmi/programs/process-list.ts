// process-list: LibVMI's example of the same name. Walks the Linux task list
// from init_task (struct list_head tasks, circular) and prints each task:
//   Process listing for VM <name> (id=<domid>)
//   [%5d] <comm> (struct addr:%lx)
// The guest keeps running (the paper's point: no pause), so the walk checks
// every pointer and field (vmi/lib/list.ts, tasks.ts): a list the guest
// changed under it is walked again, and if every walk is torn the program
// prints the tasks up to the fault and "inconsistent snapshot: <why>".
//
// Usage: process-list <domid> [eptp_index]
// Exit code 0: listed; 1: error; 3: inconsistent snapshot.
import { exit } from "../lib/wasi";
import { invocation, EXIT_ERROR } from "../lib/common";
import { taskOffsets, printProcessList } from "../lib/tasks";
import { guestKernelRanges } from "../lib/kernel-ranges";

const inv = invocation("<domid> [eptp_index]");
const off = taskOffsets("process-list");
if (off === null) exit(EXIT_ERROR);
const rc = printProcessList("process-list", off!, <u64>inv.domid, guestKernelRanges());
if (rc != 0) exit(rc);
