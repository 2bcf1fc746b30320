// Dom0's LibVMI, split as LibVMI is (libvmi/): the public definitions
// (defs.ts: libvmi.h), the core and vmi_instance_t (core.ts: core.c,
// read.c, write.c, accessors.c), the amd64 page walk (arch-amd64.ts:
// arch/amd64.c), the Linux OS layer (os-linux.ts: os/linux/), and the
// driver over this machine's EPT (driver-ept.ts: driver/xen/). Import the
// public API from here.
export { VMI_SUCCESS, VMI_FAILURE, VMI_OS_UNKNOWN, VMI_OS_LINUX, LIBVMI_REGS, regName, type status_t } from './defs.js';
export { Vmi, type DomainAccess, type VmiInitOptions, type OsInterface } from './core.js';
export { v2p_ia32e } from './arch-amd64.js';
export { linux_tasks, linux_get_taskstruct_addr_from_pid, linux_pid_to_pgd, type LinuxTask } from './os-linux.js';
export { eptDomainAccess, machineVcpuReg, type EptDomainOptions } from './driver-ept.js';
