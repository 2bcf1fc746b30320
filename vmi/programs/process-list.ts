// process-list: LibVMI's example of the same name. Walks the Linux task list
// from init_task (struct list_head tasks, circular) and prints each task:
//   Process listing for VM <name> (id=<domid>)
//   [%5d] <comm> (struct addr:%lx)
// The guest keeps running (the paper's point: no pause); the walk is
// bounded in case the list changes under us.
//
// Usage: process-list <domid> [eptp_index]
import { exit } from "../lib/wasi";
import { invocation } from "../lib/common";
import { taskOffsets, printProcessList } from "../lib/tasks";

invocation("<domid> [eptp_index]");
const off = taskOffsets("process-list");
if (off === null) exit(1);
if (!printProcessList(off!)) exit(1);
