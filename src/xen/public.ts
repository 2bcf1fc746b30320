// Xen's public ABI as an HVM guest sees it: hypercall numbers, sub-operations,
// errno values and CPUID leaves, spelled as in xen/include/public/*.h.

// xen/include/public/xen.h
export const __HYPERVISOR_set_trap_table = 0;
export const __HYPERVISOR_iret = 23;
export const __HYPERVISOR_xen_version = 17;
export const __HYPERVISOR_console_io = 18;
export const __HYPERVISOR_vcpu_op = 24;
export const __HYPERVISOR_sched_op = 29;
export const __HYPERVISOR_event_channel_op = 32;
export const __HYPERVISOR_hvm_op = 34;

export const HYPERCALL_NAMES: Record<number, string> = {
  [__HYPERVISOR_xen_version]: 'xen_version', [__HYPERVISOR_console_io]: 'console_io',
  [__HYPERVISOR_vcpu_op]: 'vcpu_op', [__HYPERVISOR_sched_op]: 'sched_op',
  [__HYPERVISOR_event_channel_op]: 'event_channel_op', [__HYPERVISOR_hvm_op]: 'hvm_op',
};

export const CONSOLEIO_write = 0;
export const CONSOLEIO_read = 1;

// xen/include/public/version.h
export const XENVER_version = 0;
export const XENVER_extraversion = 1;
export const XEN_MAJOR = 4, XEN_MINOR = 17;

// xen/include/public/sched.h
export const SCHEDOP_yield = 0;
export const SCHEDOP_block = 1;
export const SCHEDOP_shutdown = 2;
export const SCHEDOP_poll = 3;
export const SCHEDOP_shutdown_code = 5;
export const SHUTDOWN_poweroff = 0;
export const SHUTDOWN_reboot = 1;
export const SHUTDOWN_suspend = 2;
export const SHUTDOWN_crash = 3;
export const SHUTDOWN_watchdog = 4;
export const SHUTDOWN_soft_reset = 5;
export const SHUTDOWN_NAMES = ['poweroff', 'reboot', 'suspend', 'crash', 'watchdog', 'soft_reset'] as const;
export type ShutdownReason = typeof SHUTDOWN_NAMES[number];

// xen/include/public/hvm/hvm_op.h, plus vmfunc-vmi's VMI-trigger extension
// (firmware/README.md): struct xen_hvm_vmi_trigger { domid_t domid; uint16_t pad; uint32_t enable; }.
export const HVMOP_set_param = 0;
export const HVMOP_get_param = 1;
export const HVMOP_altp2m = 25;
export const HVMOP_vmi_trigger = 0x4001;
export const DOMID_SELF = 0x7ff0;

// Linux/Xen errno values (xen/include/public/errno.h), returned negated in RAX.
export const EPERM = 1, ENOENT = 2, ESRCH = 3, ENOMEM = 12, EFAULT = 14, EBUSY = 16, EINVAL = 22, ENOSYS = 38, EOPNOTSUPP = 95;
/** Xen's internal "restart this hypercall" (xen/include/xen/errno.h ERESTART): never seen by the guest. */
export const ERESTART = 85;

// xen/include/public/arch-x86/cpuid.h
export const XEN_CPUID_FIRST_LEAF = 0x40000000;
export const XEN_CPUID_MAX_NUM_LEAVES = 5;
export const XEN_CPUID_SIGNATURE_EBX = 0x566e6558; // "XenV"
export const XEN_CPUID_SIGNATURE_ECX = 0x65584d4d; // "MMXe"
export const XEN_CPUID_SIGNATURE_EDX = 0x4d4d566e; // "nVMM"
export const XEN_HVM_CPUID_IOMMU_MAPPINGS = 1 << 2;
export const XEN_HVM_CPUID_VCPU_ID_PRESENT = 1 << 3;
export const XEN_HVM_CPUID_DOMID_PRESENT = 1 << 4;
/** The MSR whose write installs the hypercall page (CPUID 0x40000002 EBX). */
export const XEN_HYPERCALL_PAGE_MSR = 0x40000000;
