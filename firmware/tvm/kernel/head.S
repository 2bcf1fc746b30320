/*
 * Boot entry. The loader enters _start in 64-bit mode at its physical
 * address (the ELF e_entry) with its own identity page tables, RDI = the
 * guest-physical address of the boot-information block, RSP = a loader
 * stack, interrupts off (firmware/README.md). This stub runs at its load
 * address: it switches to page tables that map the first GiB both at 0 and
 * at __START_KERNEL_map, jumps to the kernel's virtual address, moves to
 * init_task's stack and calls start_kernel(boot_info_gpa).
 */
#include <tvm/asm.h>

	.section .boot.text, "ax"
	.code64
	.globl _start
_start:
	cli
	cld
	movq	%rdi, %r12                 /* boot info: keep it across the switch */
	movl	$boot_pml4, %eax
	movq	%rax, %cr3
	movabsq	$startup_64_high, %rax
	jmp	*%rax

	.section .boot.data, "aw"
	.balign 4096
boot_pml4:
	.quad	boot_pdpt_lo + 0x3          /* 0..512 GiB: identity (the first GiB) */
	.fill	510, 8, 0
	.quad	boot_pdpt_hi + 0x3          /* the top 512 GiB: __START_KERNEL_map */
boot_pdpt_lo:
	.quad	boot_pd + 0x3
	.fill	511, 8, 0
boot_pdpt_hi:
	.fill	510, 8, 0
	.quad	boot_pd + 0x3               /* 0xffffffff80000000 */
	.quad	0
boot_pd:                                    /* 512 x 2 MiB: physical 0..1 GiB */
	.set	i, 0
	.rept	512
	.quad	(i << 21) + 0x83            /* present, writable, 2 MiB */
	.set	i, i + 1
	.endr

	.text
	.globl startup_64_high
startup_64_high:
	leaq	init_thread_union + THREAD_SIZE(%rip), %rsp
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	call	start_kernel
1:	hlt
	jmp	1b

	/* The initial kernel stack: init_task (the idle task) runs on it. */
	.bss
	.balign 4096
	.globl init_thread_union
init_thread_union:
	.skip	THREAD_SIZE
