/*
 * The user programs, embedded in the kernel image as flat binaries (built
 * from user/ and found through the assembler's include path). spawn() loads
 * them by name (kernel/main.c's table).
 */
#define STR(x) #x
#define XSTR(x) STR(x)
#define PROGRAM(name) \
	.balign 16; \
	.globl __prog_##name##_start, __prog_##name##_end; \
__prog_##name##_start: \
	.incbin XSTR(name.bin); \
__prog_##name##_end:

	.section .rodata
PROGRAM(init)
PROGRAM(worker)
PROGRAM(vmireq)
PROGRAM(crashme)
PROGRAM(rootkit)

/*
 * The churn scenario (init=churn, user/churn.c) sits in .data's spare room
 * after the kernel's data (tvm.ld), so nothing the default boot uses moves.
 */
	.section .tvm_churn, "aw"
PROGRAM(churn)
