/*
 * Running on Xen: find the hypervisor's CPUID leaves, install the hypercall
 * page through the MSR they name, and wrap the hypercalls the kernel uses
 * (the VMI trigger, shutdown).
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <tvm/xen.h>
#include <uapi/tvm.h>

bool xen_present;
u32 xen_domid;

void xen_init(void)
{
	u32 a, b, c, d;
	cpuid(0x40000000, 0, &a, &b, &c, &d);
	if (b != XEN_CPUID_SIGNATURE_EBX || c != XEN_CPUID_SIGNATURE_ECX || d != XEN_CPUID_SIGNATURE_EDX || a < 0x40000002) {
		printk("xen: no Xen signature at CPUID 0x40000000: hypercalls unavailable\n");
		return;
	}
	u32 max = a;
	printk("Hypervisor detected: Xen HVM\n");
	cpuid(0x40000001, 0, &a, &b, &c, &d);
	printk("Xen version %u.%u.\n", a >> 16, a & 0xffff);
	cpuid(0x40000002, 0, &a, &b, &c, &d);
	u32 msr = b;
	wrmsr(msr, __pa_symbol(hypercall_page));
	xen_present = true;
	long v = HYPERVISOR_xen_version(XENVER_version, NULL);
	if (max >= 0x40000004) {
		cpuid(0x40000004, 0, &a, &b, &c, &d);
		if (a & (1u << 4)) xen_domid = c;
	}
	printk("xen: hypercall page at %lx (MSR 0x%x), xen_version %ld.%ld, domain %u\n",
	       __pa_symbol(hypercall_page), msr, v >> 16, v & 0xffff, xen_domid);
}

long xen_vmi_trigger(int on)
{
	if (!xen_present) return -ENOSYS;
	struct xen_hvm_vmi_trigger arg = { .domid = DOMID_SELF, .enable = (u32)on };
	return HYPERVISOR_hvm_op(HVMOP_vmi_trigger, &arg);
}

void __noreturn xen_shutdown(unsigned reason)
{
	struct sched_shutdown s = { .reason = reason };
	if (xen_present) HYPERVISOR_sched_op(SCHEDOP_shutdown, &s);
	outl((u16)boot_params.exit_port, reason == SHUTDOWN_crash ? 3 : 0);
	for (;;) __asm__ volatile("cli; hlt");
}

/* Reports the status on the exit port (firmware/README.md), then asks Xen to power off. */
void __noreturn machine_power_off(int status)
{
	printk("reboot: Power down (status %d)\n", status);
	outl((u16)boot_params.exit_port, (u32)status);
	xen_shutdown(SHUTDOWN_poweroff);
}
