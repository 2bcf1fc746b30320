// The Linux task list, walked as LibVMI's process-list example walks it.
import { print } from "./wasi";
import { dec, hex } from "./fmt";
import {
  vmi_get_offset, vmi_get_name, vmi_get_vmid, vmi_translate_ksym2v, vmi_read_addr_va,
  vmi_read_32_va, vmi_read_str_va, ok,
} from "./libvmi";

const MAX_TASKS = 65536;

export class Offsets {
  constructor(public tasks: u64, public name: u64, public pid: u64) {}
}

/** linux_tasks, linux_name, linux_pid from the profile; null (and a message) if one is missing. */
export function taskOffsets(prog: string): Offsets | null {
  const names = ["linux_tasks", "linux_name", "linux_pid"];
  const v = new Array<u64>(3);
  for (let i = 0; i < 3; i++) {
    v[i] = vmi_get_offset(names[i]);
    if (!ok()) { print(prog + ": the profile has no " + names[i] + " offset\n"); return null; }
  }
  return new Offsets(v[0], v[1], v[2]);
}

/** "[%5d] %s (struct addr:%lx)" for the task at `task`, or null if its name cannot be read. */
export function taskLine(task: u64, off: Offsets): string | null {
  const pid = <i32>vmi_read_32_va(task + off.pid, 0);
  const name = vmi_read_str_va(task + off.name, 0);
  if (name === null) return null;
  return "[" + dec(pid, 5) + "] " + name + " (struct addr:" + hex(task) + ")";
}

/**
 * Prints "Process listing for VM <name> (id=<domid>)" and one line per task,
 * from init_task round the circular tasks list; LibVMI's messages on failure.
 * Returns whether the whole list was printed.
 */
export function printProcessList(off: Offsets): bool {
  print("Process listing for VM " + vmi_get_name() + " (id=" + vmi_get_vmid().toString() + ")\n");
  /* Begin at PID 0, the 'swapper' task, as LibVMI does. */
  let listHead = vmi_translate_ksym2v("init_task");
  if (!ok()) { print("Failed to find init_task\n"); return false; }
  listHead += off.tasks;
  let cur = listHead;
  let next = vmi_read_addr_va(cur, 0);
  if (!ok()) { print("Failed to read next pointer at " + hex(cur) + "\n"); return false; }
  let n = 0;
  while (true) {
    const line = taskLine(cur - off.tasks, off);
    if (line === null) { print("Failed to find procname\n"); return false; }
    print(line + "\n");
    /* follow the next pointer */
    cur = next;
    next = vmi_read_addr_va(cur, 0);
    if (!ok()) { print("Failed to read next pointer in loop at " + hex(cur) + "\n"); return false; }
    if (cur == listHead) break;
    if (++n >= MAX_TASKS) { print("The task list did not return to its head after " + n.toString() + " tasks\n"); return false; }
  }
  return true;
}
