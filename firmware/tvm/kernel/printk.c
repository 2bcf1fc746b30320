/* printk: formatted kernel messages on the serial console, with Linux's "[seconds.micros]" stamps. */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <tvm/xen.h>

static bool line_start = true;   /* the console is at the start of a line */

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) serial_putc(s[i]);
	if (n) line_start = s[n - 1] == '\n';
}

/* Each line starts with the time since boot from the TSC, as Linux's printk does. */
int printk(const char *fmt, ...)
{
	char buf[512];
	int n = 0;
	if (line_start) {
		u64 ns = tsc_khz ? cycles_to_ns(rdtsc()) : 0;
		n = snprintf(buf, sizeof(buf), "[%5lu.%06lu] ", ns / 1000000000ul, (ns / 1000ul) % 1000000ul);
	}
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1) n = sizeof(buf) - 1;
	console_write(buf, n);
	return n;
}

void show_regs(const struct pt_regs *r)
{
	printk("RIP: %04lx:%016lx\n", r->cs, r->rip);
	printk("RSP: %04lx:%016lx EFLAGS: %08lx\n", r->ss, r->rsp, r->rflags);
	printk("RAX: %016lx RBX: %016lx RCX: %016lx\n", r->rax, r->rbx, r->rcx);
	printk("RDX: %016lx RSI: %016lx RDI: %016lx\n", r->rdx, r->rsi, r->rdi);
	printk("RBP: %016lx R08: %016lx R09: %016lx\n", r->rbp, r->r8, r->r9);
	printk("R10: %016lx R11: %016lx R12: %016lx\n", r->r10, r->r11, r->r12);
	printk("R13: %016lx R14: %016lx R15: %016lx\n", r->r13, r->r14, r->r15);
	printk("CR2: %016lx CR3: %016lx CR4: %016lx\n", read_cr2(), read_cr3(), read_cr4());
}

/* A kernel panic asks Xen to crash the domain, as Linux on Xen does (xen_panic_event). */
void __noreturn panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	cli();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printk("Kernel panic - not syncing: %s\n", buf);
	xen_shutdown(SHUTDOWN_crash);
}
