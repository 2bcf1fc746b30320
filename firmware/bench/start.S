/* Entry of the freestanding benchmark image (AT&T syntax, GNU as).
 *
 * Contract with the caller (src/bench/mips.ts via ExecEnv.runBinary):
 *   - the image is loaded at 0x10000000 (read/execute), CPL 3;
 *   - RDI = number of iterations, RSP = 0x20010000 (top of the 64 KiB
 *     read/write data window at 0x20000000 that also holds .bss);
 *   - on return the checksum is in RAX and execution jumps to
 *     __image_end, the first byte after the image, which ends the run
 *     with stop 'end'. */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    cld
    mov     %rdi, %rbx              /* iterations */
    /* zero .bss (the data window is pre-filled with a pattern) */
    mov     $__bss_start, %edi
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    shr     $3, %ecx
    xor     %eax, %eax
    rep stosq
    mov     %rbx, %rdi
    call    bench_run
    jmp     __image_end
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
