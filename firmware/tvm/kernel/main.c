/*
 * start_kernel: copy the boot information, bring up the console, memory,
 * descriptor tables, page tables, Xen, system calls, time and the scheduler,
 * then run the init program as pid 1 and become the idle task.
 */
#include <tvm/kernel.h>
#include <tvm/x86.h>
#include <tvm/xen.h>
#include <uapi/tvm.h>

#define COMMAND_LINE_SIZE 4096

struct boot_info boot_params;
char boot_command_line[COMMAND_LINE_SIZE];
static char init_program[TASK_COMM_LEN] = "init";
static long init_arg;
/* Kernel parameter "rootkit": init also runs the rootkit scenario program. */
bool rootkit_scenario;

extern char _text[], _etext[], _sdata[], _edata[], __bss_start[], _end[];

#define PROGRAM(n) extern const u8 __prog_##n##_start[], __prog_##n##_end[];
PROGRAM(init) PROGRAM(worker) PROGRAM(vmireq) PROGRAM(crashme) PROGRAM(rootkit) PROGRAM(churn)
#undef PROGRAM
#define PROGRAM(n) { #n, __prog_##n##_start, __prog_##n##_end },
static const struct program programs[] = { PROGRAM(init) PROGRAM(worker) PROGRAM(vmireq) PROGRAM(crashme) PROGRAM(rootkit) PROGRAM(churn) };

const struct program *find_program(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(programs); i++)
		if (!strcmp(programs[i].name, name)) return &programs[i];
	return NULL;
}

static long parse_long(const char *s, bool *ok)
{
	long v = 0;
	bool neg = *s == '-';
	if (neg) s++;
	*ok = *s != 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9') { *ok = false; break; }
		v = v * 10 + (*s - '0');
	}
	return neg ? -v : v;
}

/* Kernel parameters: init=PROGRAM, initarg=N (RDI of pid 1). Others are reported, as Linux does. */
static void parse_cmdline(void)
{
	char buf[COMMAND_LINE_SIZE];
	strscpy(buf, boot_command_line, sizeof(buf));
	char *p = buf;
	while (*p) {
		while (*p == ' ') p++;
		if (!*p) break;
		char *tok = p;
		while (*p && *p != ' ') p++;
		if (*p) *p++ = 0;
		if (!strncmp(tok, "init=", 5)) {
			const char *name = tok + 5;
			if (*name == '/') name++;
			strscpy(init_program, name, sizeof(init_program));
		} else if (!strcmp(tok, "rootkit")) {
			rootkit_scenario = true;
		} else if (!strncmp(tok, "initarg=", 8)) {
			bool ok;
			long v = parse_long(tok + 8, &ok);
			if (ok) init_arg = v;
			else printk("Malformed kernel parameter \"%s\" ignored\n", tok);
		} else {
			printk("Unknown kernel command line parameter \"%s\", ignored\n", tok);
		}
	}
}

/* Looks a symbol up in the System.map the loader placed in memory (if any). */
static u64 sysmap_lookup(const char *name)
{
	if (!boot_params.sysmap_gpa || !boot_params.sysmap_len) return 0;
	const char *s = __va(boot_params.sysmap_gpa), *end = s + boot_params.sysmap_len;
	size_t n = strlen(name);
	while (s < end) {
		const char *line = s;
		while (s < end && *s != '\n') s++;
		/* "ffffffff80123456 D name" */
		if (s - line == (long)(16 + 3 + n) && !memcmp(line + 19, name, n)) {
			u64 v = 0;
			for (int i = 0; i < 16; i++) {
				char c = line[i];
				v = v * 16 + (u64)(c <= '9' ? c - '0' : c - 'a' + 10);
			}
			return v;
		}
		s++;
	}
	return 0;
}

void __noreturn start_kernel(u64 boot_info_gpa)
{
	/* The boot page tables still map the first GiB at 0: the loader's block is reachable as is. */
	const struct boot_info *bi = (const struct boot_info *)boot_info_gpa;
	if (bi->magic != BOOTINFO_MAGIC || bi->version < BOOTINFO_VERSION) {
		outl(0x501, 0x7f);     /* no usable boot information: report on the default exit port */
		for (;;) __asm__ volatile("cli; hlt");
	}
	memcpy(&boot_params, bi, sizeof(boot_params));
	u32 len = bi->cmdline_len < COMMAND_LINE_SIZE - 1 ? bi->cmdline_len : COMMAND_LINE_SIZE - 1;
	if (bi->cmdline_gpa) memcpy(boot_command_line, (const char *)bi->cmdline_gpa, len);
	boot_command_line[len] = 0;
	if (!boot_params.timer_vector) boot_params.timer_vector = TIMER_VECTOR_DEFAULT;
	if (!boot_params.exit_port) boot_params.exit_port = 0x501;
	tsc_khz = boot_params.tsc_khz;

	serial_init(boot_params.console_port ? (u16)boot_params.console_port : 0x3f8);
	printk("TVM mini-OS 1.0 (vmfunc-vmi target VM) x86_64\n");
	printk("Command line: %s\n", boot_command_line);
	parse_cmdline();
	mm_init_early();
	trap_init();
	cpu_init();
	paging_init();
	printk("Memory: %luK/%luK available (%luK kernel code, %luK data, %luK bss)\n",
	       nr_free_pages() * 4, total_pages() * 4, (u64)(_etext - _text) / 1024,
	       (u64)(_edata - _sdata) / 1024, (u64)(_end - __bss_start) / 1024);
	if (boot_params.sysmap_gpa) {
		u64 addr = sysmap_lookup("init_task");
		printk("System.map: %lu bytes at %lx; init_task at %lx (%s)\n", boot_params.sysmap_len,
		       boot_params.sysmap_gpa, addr, addr == (u64)&init_task ? "matches" : "MISMATCH");
	}
	printk("#VE information area at %lx%s; EPTP views %u%s\n", boot_params.ve_info_gpa,
	       boot_params.flags & BOOTINFO_F_VE ? " (armed)" : "", boot_params.eptp_views,
	       boot_params.flags & BOOTINFO_F_VMFUNC ? " (VMFUNC on)" : "");
	xen_init();
	syscall_init();
	time_init();
	sched_init();

	printk("Run /%s as init process\n", init_program);
	long pid = kernel_spawn(init_program, init_arg, &init_task);
	if (pid < 0) panic("No working init found (%s: error %ld)", init_program, pid);
	cpu_idle();
}
