/* Constants shared by C and the assembly files. */
#ifndef TVM_ASM_H
#define TVM_ASM_H

#define THREAD_SIZE       (4 * 4096)
#define PCPU_KERNEL_RSP   0
#define PCPU_USER_RSP     8
#define __KERNEL_CS_ASM   0x10
#define __KERNEL_DS_ASM   0x18
#define __USER_DS_ASM     0x2b
#define __USER_CS_ASM     0x33

#endif
