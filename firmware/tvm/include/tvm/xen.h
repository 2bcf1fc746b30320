/*
 * The Xen hypercall ABI as an HVM guest sees it (xen/include/public/xen.h,
 * sched.h, hvm/hvm_op.h): hypercall N is a call to hypercall_page + 32*N,
 * whose stub loads EAX and executes VMCALL. Arguments in RDI, RSI, RDX,
 * R10, R8; the result in RAX.
 */
#ifndef TVM_XEN_H
#define TVM_XEN_H
#include <tvm/types.h>

#define __HYPERVISOR_console_io    18
#define __HYPERVISOR_xen_version   17
#define __HYPERVISOR_sched_op      29
#define __HYPERVISOR_hvm_op        34

#define CONSOLEIO_write  0
#define XENVER_version   0

#define SCHEDOP_yield     0
#define SCHEDOP_block     1
#define SCHEDOP_shutdown  2
#define SHUTDOWN_poweroff 0
#define SHUTDOWN_reboot   1
#define SHUTDOWN_crash    3
struct sched_shutdown { u32 reason; };

#define DOMID_SELF 0x7ff0u

/*
 * vmfunc-vmi's extension: the VMI trigger. Sets (enable=1) or clears
 * (enable=0) RDTSC exiting in the calling vCPU's VMCS, so that the
 * hypervisor's RDTSC emulation notices VMFUNC view switches (the paper's
 * mechanism). Documented in firmware/README.md.
 */
#define HVMOP_vmi_trigger 0x4001
struct xen_hvm_vmi_trigger { u16 domid; u16 pad; u32 enable; };

#define XEN_CPUID_SIGNATURE_EBX 0x566e6558u /* "XenV" */
#define XEN_CPUID_SIGNATURE_ECX 0x65584d4du /* "MMXe" */
#define XEN_CPUID_SIGNATURE_EDX 0x4d4d566eu /* "nVMM" */

extern char hypercall_page[4096];
extern bool xen_present;

static inline long _hypercall2(unsigned nr, long a1, long a2)
{
	long ret;
	register long rdi __asm__("rdi") = a1, rsi __asm__("rsi") = a2;
	__asm__ volatile("call *%[fn]"
		: "=a"(ret), "+r"(rdi), "+r"(rsi)
		: [fn] "r"(hypercall_page + nr * 32)
		: "memory", "rcx", "rdx", "r8", "r9", "r10", "r11");
	return ret;
}
static inline long _hypercall3(unsigned nr, long a1, long a2, long a3)
{
	long ret;
	register long rdi __asm__("rdi") = a1, rsi __asm__("rsi") = a2, rdx __asm__("rdx") = a3;
	__asm__ volatile("call *%[fn]"
		: "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
		: [fn] "r"(hypercall_page + nr * 32)
		: "memory", "rcx", "r8", "r9", "r10", "r11");
	return ret;
}
static inline long HYPERVISOR_sched_op(int cmd, void *arg) { return _hypercall2(__HYPERVISOR_sched_op, cmd, (long)arg); }
static inline long HYPERVISOR_hvm_op(int op, void *arg) { return _hypercall2(__HYPERVISOR_hvm_op, op, (long)arg); }
static inline long HYPERVISOR_xen_version(int cmd, void *arg) { return _hypercall2(__HYPERVISOR_xen_version, cmd, (long)arg); }
static inline long HYPERVISOR_console_io(int cmd, int count, const char *buf)
{
	return _hypercall3(__HYPERVISOR_console_io, cmd, count, (long)buf);
}

void xen_init(void);
long xen_vmi_trigger(int on);
void __noreturn xen_shutdown(unsigned reason);

#endif
