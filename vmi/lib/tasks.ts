// The Linux task list, walked as LibVMI's process-list example walks it
// (from init_task round struct task_struct's `tasks` list_head), with the
// safe list walker (list.ts) and checks of each task's fields: the pid below
// PID_MAX_LIMIT (include/linux/threads.h) and the comm printable ASCII,
// NUL-terminated within TASK_COMM_LEN (include/linux/sched.h).
import { print, eprint, writeBytes, STDOUT } from "./wasi";
import { dec, hex, TextBuf } from "./fmt";
import {
  vmi_get_offset, vmi_get_name, vmi_translate_ksym2v, vmi_read_32_va, vmi_read_va, ok,
} from "./libvmi";
import { ListWalker, WALK_BAD_FIELD, WALK_TOO_LONG, walkMaxEntries, walkRetries } from "./list";
import { KernelRanges } from "./kernel-ranges";
import { EXIT_ERROR, EXIT_INCONSISTENT } from "./common";

/** PID_MAX_LIMIT on 64-bit: 4 * 1024 * 1024; a pid is below it. */
export const PID_MAX_LIMIT: u32 = 4194304;
/** TASK_COMM_LEN: the comm and its NUL. */
export const TASK_COMM_LEN: i32 = 16;

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

/** A task's pid and comm as read, or why they cannot be trusted. */
export class TaskFields {
  pid: u32 = 0;
  /** The comm's bytes (printable ASCII, without the NUL). */
  comm: Uint8Array = new Uint8Array(TASK_COMM_LEN);
  commLength: i32 = 0;
  /** null when both fields are sound. */
  problem: string | null = null;

  commString(): string { return String.UTF8.decodeUnsafe(this.comm.dataStart, <usize>this.commLength); }
}

/**
 * Reads and checks the pid and comm of the task at `task` into `f` (two
 * libvmi calls); returns whether they are sound (else `f.problem`).
 */
export function readTaskFields(task: u64, off: Offsets, f: TaskFields): bool {
  f.problem = null;
  f.commLength = 0;
  f.pid = vmi_read_32_va(task + off.pid, 0);
  if (!ok()) { f.problem = "has an unreadable pid"; return false; }
  if (f.pid >= PID_MAX_LIMIT) {
    f.problem = "has pid " + f.pid.toString() + ", outside 0.." + (PID_MAX_LIMIT - 1).toString();
    return false;
  }
  const comm = f.comm;
  if (vmi_read_va(task + off.name, 0, comm) != TASK_COMM_LEN) { f.problem = "has an unreadable comm"; return false; }
  let n = 0;
  while (n < TASK_COMM_LEN && comm[n] != 0) {
    const c = comm[n];
    if (c < 0x20 || c > 0x7e) {
      f.problem = "has a comm with byte " + hex(<u64>c) + " at " + n.toString() + ", not printable ASCII";
      return false;
    }
    n++;
  }
  if (n == TASK_COMM_LEN) { f.problem = "has a comm with no NUL within TASK_COMM_LEN (16)"; return false; }
  f.commLength = n;
  return true;
}

/** "[%5d] %s (struct addr:%lx)\n": LibVMI's process-list line. */
function appendTask(out: TextBuf, task: u64, f: TaskFields): void {
  out.ascii("[").dec(<u64>f.pid, 5).ascii("] ").raw(f.comm, f.commLength).ascii(" (struct addr:").hex(task).ascii(")\n");
}

/** The process-list line of the task at `task` (no newline), or null if its fields cannot be read or trusted. */
export function taskLine(task: u64, off: Offsets): string | null {
  const f = new TaskFields();
  if (!readTaskFields(task, off, f)) return null;
  return "[" + dec(<i64>f.pid, 5) + "] " + f.commString() + " (struct addr:" + hex(task) + ")";
}

/**
 * The task list from init_task: one libvmi call per task for its list_head,
 * two for its fields. next() ends the walk (its `list.status`) at the
 * first inconsistency, a field one included.
 */
export class TaskWalk {
  list: ListWalker;
  task: u64 = 0;
  fields: TaskFields = new TaskFields();

  constructor(initTask: u64, public off: Offsets, ranges: KernelRanges, maxEntries: i32) {
    this.list = new ListWalker(initTask + off.tasks, true, ranges, maxEntries, off.tasks, "task list");
  }

  begin(): bool { return this.list.begin(); }

  next(): bool {
    if (!this.list.next()) return false;
    this.task = this.list.container(this.list.entry);
    if (!readTaskFields(this.task, this.off, this.fields)) {
      this.list.fail(WALK_BAD_FIELD, "entry " + this.list.count.toString() + " (" + hex(this.task) + ") " + this.fields.problem!);
      return false;
    }
    return true;
  }
}

/**
 * Prints "Process listing for VM <name> (id=<vmid>)" and one line per task,
 * from init_task round the tasks list; LibVMI's messages when init_task
 * cannot be found or read. A torn walk is retried (walkRetries(), stderr
 * says so), one past the bound is not; if every walk is torn, the last one's lines are printed up to
 * the fault, then "inconsistent snapshot: <why> (...)". `ranges`: where
 * task pointers may point (guestKernelRanges()). Returns the exit
 * code: 0, EXIT_ERROR or EXIT_INCONSISTENT.
 */
export function printProcessList(prog: string, off: Offsets, vmid: u64, ranges: KernelRanges): i32 {
  print("Process listing for VM " + vmi_get_name() + " (id=" + vmid.toString() + ")\n");
  /* Begin at PID 0, the 'swapper' task, as LibVMI does. */
  const initTask = vmi_translate_ksym2v("init_task");
  if (!ok()) { print("Failed to find init_task\n"); return EXIT_ERROR; }
  const walks = walkRetries() + 1;
  const max = walkMaxEntries();
  const lines = new TextBuf();
  for (let attempt = 1; ; attempt++) {
    const w = new TaskWalk(initTask, off, ranges, max);
    if (!w.begin()) { print("Failed to read next pointer at " + hex(initTask + off.tasks) + "\n"); return EXIT_ERROR; }
    lines.reset();
    while (w.next()) appendTask(lines, w.task, w.fields);
    if (w.list.consistent) { writeBytes(STDOUT, lines.bytes.dataStart, <usize>lines.length); return 0; }
    // A list past the bound is not torn by a moment's change: walking it again would only cost the same again.
    if (attempt < walks && w.list.status != WALK_TOO_LONG) {
      eprint(prog + ": walk " + attempt.toString() + " of " + walks.toString() + " torn (" + w.list.reason + "); walking again\n");
      continue;
    }
    writeBytes(STDOUT, lines.bytes.dataStart, <usize>lines.length);
    print("inconsistent snapshot: " + w.list.reason + " (the guest changed it during the walk)\n");
    return EXIT_INCONSISTENT;
  }
}
