// LibVMI's Linux OS layer (libvmi/os/linux/core.c, memory.c, symbols.c):
// structure offsets from the profile (linux_tasks, linux_mm, linux_pid,
// linux_pgd, linux_name; see profile.ts), the task list headed by
// init_task, and pid -> page-table root (linux_pid_to_pgd, which LibVMI's
// vmi_pid_to_dtb calls through the os_interface). Everything is read through
// the instance's own virtual reads, so it works on any arch layer.
import type { Vmi, OsInterface } from './core.js';
import { VMI_SUCCESS, VMI_OS_LINUX } from './defs.js';
import { PHYS_MASK } from './arch-amd64.js';

/** Default bound on task-list walks: the list may change, or be corrupt, while we walk it. */
export const MAX_TASKS = 1 << 16;

/** A task on the list: its task_struct, pid and comm. */
export interface LinuxTask { addr: bigint; pid: number; comm: string }

const offset = (vmi: Vmi, name: string): bigint | undefined => vmi.profile?.offsets.get(name);

/**
 * The tasks on the list headed by init_task, init_task first. Stops at the
 * head, at an unreadable link, or after vmi.maxTasks tasks (the guest runs
 * while we walk).
 */
export function linux_tasks(vmi: Vmi): LinuxTask[] {
  const out: LinuxTask[] = [];
  const init = vmi.symbols.lookup('init_task');
  const tasksOff = offset(vmi, 'linux_tasks'), pidOff = offset(vmi, 'linux_pid');
  if (init === undefined || tasksOff === undefined || pidOff === undefined) return out;
  const nameOff = offset(vmi, 'linux_name');
  const head = init + tasksOff;
  let cur = head;
  for (let i = 0; i < vmi.maxTasks; i++) {
    const task = cur - tasksOff;
    const [st, pid] = vmi.vmi_read_32_va(task + pidOff, 0);
    if (st !== VMI_SUCCESS) break;
    const comm = nameOff === undefined ? '' : vmi.vmi_read_str_va(task + nameOff, 0) ?? '';
    out.push({ addr: BigInt.asUintN(64, task), pid: pid | 0, comm });
    const [st2, next] = vmi.vmi_read_addr_va(cur, 0);
    if (st2 !== VMI_SUCCESS || next === head || next === 0n) break;
    cur = next;
  }
  return out;
}

/** linux_get_taskstruct_addr_from_pid: the task_struct of `pid` (walking init_task's list), or undefined. */
export function linux_get_taskstruct_addr_from_pid(vmi: Vmi, pid: number): bigint | undefined {
  for (const t of linux_tasks(vmi)) if (t.pid === pid) return t.addr;
  return undefined;
}

/**
 * The page-table root of the task at `task`: task->mm (task->active_mm for
 * kernel threads, at mm + 8 as LibVMI assumes unless the profile has
 * linux_active_mm) -> pgd, a kernel virtual address, translated to physical.
 */
export function linux_task_dtb(vmi: Vmi, task: bigint): bigint | undefined {
  const mmOff = offset(vmi, 'linux_mm'), pgdOff = offset(vmi, 'linux_pgd');
  if (mmOff === undefined || pgdOff === undefined) return undefined;
  let [st, mm] = vmi.vmi_read_addr_va(task + mmOff, 0);
  if (st !== VMI_SUCCESS) return undefined;
  if (mm === 0n) {
    const activeOff = offset(vmi, 'linux_active_mm') ?? mmOff + 8n;
    [st, mm] = vmi.vmi_read_addr_va(task + activeOff, 0);
    if (st !== VMI_SUCCESS || mm === 0n) return undefined;
  }
  const [st2, pgd] = vmi.vmi_read_addr_va(mm + pgdOff, 0);
  if (st2 !== VMI_SUCCESS) return undefined;
  const [st3, pa] = vmi.vmi_translate_kv2p(pgd);
  return st3 === VMI_SUCCESS ? pa & PHYS_MASK : undefined;
}

/**
 * linux_pid_to_pgd: the page-table root of process `pid`. Pid 0 without an
 * mm is the kernel's own page table.
 */
export function linux_pid_to_pgd(vmi: Vmi, pid: number): bigint | undefined {
  const task = linux_get_taskstruct_addr_from_pid(vmi, pid);
  if (task === undefined) return undefined;
  const dtb = linux_task_dtb(vmi, task);
  if (dtb !== undefined) return dtb;
  return pid === 0 ? vmi.kernelDtb() : undefined;
}

/** The Linux os_interface, selected by a profile (ostype "Linux"). */
export const LINUX_OS: OsInterface = { ostype: VMI_OS_LINUX, pidToDtb: linux_pid_to_pgd };
