/* Entry of the freestanding floating-point demo image (AT&T syntax, GNU as).
 * Contract with the caller (ExecEnv.runBinary, the exec environment of src/exec.ts):
 *   loaded at 0x10000000, CPL 3, RSP = 0x20010000 (top of the 64 KiB data window at 0x20000000
 *   that also holds .bss); CR4.OSFXSR/OSXMMEXCPT set, MXCSR 0x1f80, x87 as after FNINIT.
 *   fp_demo() formats its text into fp_text (the first bytes of .bss, at 0x20000000); the run
 *   ends at __image_end with the text's length in RAX. */
    .section .text.start, "ax", @progbits
    .globl _start
    .type _start, @function
_start:
    cld
    mov     $__bss_start, %edi      /* zero .bss (the window is pre-filled with a pattern) */
    mov     $__bss_end, %ecx
    sub     %edi, %ecx
    shr     $3, %ecx
    xor     %eax, %eax
    rep stosq
    and     $-16, %rsp              /* the SysV ABI's 16-byte stack alignment at a call */
    mov     $fp_text, %edi
    mov     $FP_TEXT_CAP, %esi
    call    fp_demo
    jmp     __image_end
    .size _start, . - _start

    .set    FP_TEXT_CAP, 8192
    .section .bss.text, "aw", @nobits
    .globl  fp_text
    .balign 64
fp_text:
    .skip   FP_TEXT_CAP

    .section .note.GNU-stack, "", @progbits
