/*
 * User program entry. The header tells the kernel's loader the entry point
 * and the size to map (the kernel zeroes what the file does not cover).
 * _start(arg in RDI, hwcap in RSI) calls main(arg, hwcap) and exits with
 * its result.
 */
	.section .header, "a"
	.long	0x58564d54                  /* USER_IMAGE_MAGIC */
	.long	_start - 0x400000            /* entry */
	.quad	__image_memsz               /* bytes to map */

	.text
	.globl _start
_start:
	xorl	%ebp, %ebp
	andq	$-16, %rsp
	call	main
	movl	%eax, %edi
	call	exit
	ud2
