// vmi-request: what Dom0's launcher runs by default for a VMI request from
// a guest (the paper's "VMI launch on demand"). It prints the request it
// was started for, the task that asked (the task whose page tables are the
// CR3 the hypervisor recorded, if given; otherwise the guest's current
// task), and the process list.
//
// Usage: vmi-request <domid> <eptp_index> [vcpu] [cr3]
// Exit code 0: done; 1: error; 3: the task list was inconsistent (as process-list).
//
// The current task is read, like Linux's `current`, from the `current_task`
// symbol if the System.map has it, else from the per-CPU area: the kernel
// GS base (GS_BASE in kernel mode, the shadow one after SWAPGS) plus the
// profile's `linux_current_task` offset.
import { print, eprint, exit } from "../lib/wasi";
import { parseU64, parseI32, parseOk, hex } from "../lib/fmt";
import { invocation } from "../lib/common";
import { taskOffsets, taskLine, printProcessList, Offsets, PID_MAX_LIMIT } from "../lib/tasks";
import { ListWalker, walkMaxEntries } from "../lib/list";
import { guestKernelRanges } from "../lib/kernel-ranges";
import {
  vmi_get_name, vmi_read_addr_ksym, vmi_read_addr_va, vmi_get_offset, vmi_get_vcpureg, vmi_pid_to_dtb,
  vmi_translate_ksym2v, vmi_read_32_va, GS_BASE, SHADOW_GS, ok,
} from "../lib/libvmi";

const USAGE = "<domid> <eptp_index> [vcpu] [cr3]";
const KERNEL_HALF: u64 = 0xffff800000000000;

const inv = invocation(USAGE, 3);
const args = inv.args;
let vcpu: i32 = 0;
if (args.length > 3) {
  vcpu = parseI32(args[3]);
  if (!parseOk || vcpu < 0) { eprint("vmi-request: bad vcpu \"" + args[3] + "\"\n"); exit(1); }
}
let cr3: u64 = 0;
const haveCr3 = args.length > 4;
if (haveCr3) {
  cr3 = parseU64(args[4], 16);
  if (!parseOk) { eprint("vmi-request: bad cr3 \"" + args[4] + "\"\n"); exit(1); }
}

const index = inv.eptpIndex;
let what = "";
if (index >= 10) what = "view " + (index - 10).toString() + ", parameter " + (index - 10).toString();
else what = "an ordinary view index, not a VMI request";
print("VMI request from domain " + inv.domid.toString() + " (" + vmi_get_name() + "): EPTP index " +
  index.toString() + " (" + what + ")\n");

function currentTask(): u64 {
  const t = vmi_read_addr_ksym("current_task");
  if (ok()) return t;
  const off = vmi_get_offset("linux_current_task");
  if (!ok()) return 0;
  let gs = vmi_get_vcpureg(GS_BASE, vcpu);
  if (!ok() || gs < KERNEL_HALF) gs = vmi_get_vcpureg(SHADOW_GS, vcpu);
  if (!ok() || gs < KERNEL_HALF) return 0;
  const p = vmi_read_addr_va(gs + off, 0);
  return ok() ? p : 0;
}

/** The task whose address space has page-table root `dtb`, by a safe walk of the task list; 0 if none. */
function taskByDtb(dtb: u64, o: Offsets): u64 {
  const head = vmi_translate_ksym2v("init_task");
  if (!ok()) return 0;
  const list = new ListWalker(head + o.tasks, true, ranges, walkMaxEntries(), o.tasks, "task list");
  if (!list.begin()) return 0;
  while (list.next()) {
    const task = list.container(list.entry);
    const pid = vmi_read_32_va(task + o.pid, 0);
    if (!ok() || pid >= PID_MAX_LIMIT) return 0;
    const d = vmi_pid_to_dtb(<i32>pid);
    if (ok() && pid != 0 && (d & ~(<u64>0xfff)) == (dtb & 0x000ffffffffff000)) return task;
  }
  return 0;
}

const off = taskOffsets("vmi-request");
const ranges = guestKernelRanges();
if (off === null) exit(1);
let task: u64 = 0;
let how = "";
if (haveCr3) {
  task = taskByDtb(cr3, off!);
  how = "CR3 " + hex(cr3);
} else {
  task = currentTask();
  how = "current task on vCPU " + vcpu.toString();
}
if (task != 0) {
  const line = taskLine(task, off!);
  print("Requesting task (" + how + "): " + (line !== null ? line : "unreadable at " + hex(task)) + "\n");
} else {
  print("Requesting task (" + how + "): not found\n");
}
const rc = printProcessList("vmi-request", off!, <u64>inv.domid, ranges);
if (rc != 0) exit(rc);
