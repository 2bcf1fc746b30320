/*
 * Kernel entry and exit: the 256 IDT stubs, the common interrupt path, the
 * SYSCALL entry (returning with SYSRETQ), the first return of a new task
 * (ret_from_fork), the context switch, and the Xen hypercall page.
 * The frame built on entry is struct pt_regs (include/tvm/kernel.h).
 */
#include <tvm/asm.h>

	.text

/* Each stub pushes an error code (0 where the CPU pushes none), the vector, and joins common_interrupt. */
	.balign 16
	.globl irq_entries_start
irq_entries_start:
	.set	vec, 0
	.rept	256
	.balign 16
	.if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$vec
	jmp	common_interrupt
	.set	vec, vec + 1
	.endr

	.section .rodata
	.balign 8
	.globl idt_stubs
idt_stubs:
	.set	vec, 0
	.rept	256
	.quad	irq_entries_start + vec * 16
	.set	vec, vec + 1
	.endr

	.text
	.balign 16
common_interrupt:
	testb	$3, 24(%rsp)            /* CS of the interrupted context */
	jz	1f
	swapgs
1:	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi
	call	do_interrupt
	.globl ret_from_intr
ret_from_intr:
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	addq	$16, %rsp               /* vector, error code */
	testb	$3, 8(%rsp)
	jz	2f
	swapgs
2:	iretq

/* A new task's first run: its kernel stack holds the user-mode pt_regs. */
	.globl ret_from_fork
ret_from_fork:
	jmp	ret_from_intr

/*
 * SYSCALL: RCX = user RIP, R11 = user RFLAGS, IF/TF/DF/AC cleared by
 * IA32_FMASK. Interrupts stay off in the kernel; SYSRETQ restores them.
 */
	.balign 16
	.globl entry_SYSCALL_64
entry_SYSCALL_64:
	swapgs
	movq	%rsp, %gs:PCPU_USER_RSP
	movq	%gs:PCPU_KERNEL_RSP, %rsp
	pushq	$__USER_DS_ASM          /* ss */
	pushq	%gs:PCPU_USER_RSP       /* rsp */
	pushq	%r11                    /* rflags */
	pushq	$__USER_CS_ASM          /* cs */
	pushq	%rcx                    /* rip */
	pushq	%rax                    /* orig_rax: the system call number */
	pushq	$-1                     /* vector: none */
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	$-38                    /* rax: -ENOSYS until the call sets it */
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	call	do_syscall_64
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	addq	$16, %rsp               /* vector, orig_rax */
	movq	0(%rsp), %rcx           /* user RIP */
	movq	16(%rsp), %r11          /* user RFLAGS */
	movq	24(%rsp), %rsp          /* user RSP */
	swapgs
	sysretq

/* void __switch_to_asm(u64 *prev_sp, u64 next_sp): callee-saved registers live on each task's stack. */
	.balign 16
	.globl __switch_to_asm
__switch_to_asm:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

/*
 * The hypercall page. Writing its guest-physical address to the MSR that
 * CPUID leaf 0x40000002 names makes Xen fill it with one 32-byte stub per
 * hypercall ("mov $nr, %eax; vmcall; ret"). Until then each slot returns
 * -ENOSYS.
 */
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.rept	128
	movq	$-38, %rax
	ret
	.skip	24, 0xcc
	.endr
