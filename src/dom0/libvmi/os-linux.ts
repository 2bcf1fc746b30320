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
  const [stInit, init] = vmi.vmi_translate_ksym2v('init_task');
  const tasksOff = offset(vmi, 'linux_tasks'), pidOff = offset(vmi, 'linux_pid');
  if (stInit !== VMI_SUCCESS || tasksOff === undefined || pidOff === undefined) return out;
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

/** x86-64 KASLR moves the kernel in CONFIG_PHYSICAL_ALIGN steps (2 MiB by default) within KERNEL_IMAGE_SIZE (1 GiB). */
const KASLR_ALIGN = 0x200000n;
const KERNEL_IMAGE_SIZE = 0x40000000n;
const START_KERNEL_MAP = 0xffffffff80000000n;

/** Does `init` (a candidate init_task) hold the idle task: pid 0, comm "swapper" ("swapper/0" on SMP)? */
function isInitTask(vmi: Vmi, init: bigint, pidOff: bigint, nameOff: bigint): boolean {
  const [st, pid] = vmi.vmi_read_32_va(init + pidOff, 0);
  return st === VMI_SUCCESS && pid === 0 && /^swapper(\/0)?$/.test(vmi.vmi_read_str_va(init + nameOff, 0) ?? '');
}

/**
 * The kernel's KASLR offset: how far the running kernel lies from its System.map (LibVMI's Linux
 * layer finds it at init and adds it to every symbol). 0 when init_task, at its System.map address,
 * holds the idle task; otherwise the 2 MiB-aligned shift within the kernel image's 1 GiB at which it
 * does (tried nearest first), undefined when none does or the profile lacks the offsets to check.
 * `mapInit` is init_task's System.map address.
 */
export function linux_kaslr_offset(vmi: Vmi, mapInit: bigint): bigint | undefined {
  const pidOff = offset(vmi, 'linux_pid'), nameOff = offset(vmi, 'linux_name');
  if (pidOff === undefined || nameOff === undefined) return undefined;
  if (isInitTask(vmi, mapInit, pidOff, nameOff)) return 0n;
  for (let k = KASLR_ALIGN; k < KERNEL_IMAGE_SIZE; k += KASLR_ALIGN) {
    for (const off of [k, -k]) {
      const at = mapInit + off;
      if (at < START_KERNEL_MAP || at >= START_KERNEL_MAP + KERNEL_IMAGE_SIZE) continue;
      if (isInitTask(vmi, at, pidOff, nameOff)) return off;
    }
  }
  return undefined;
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
