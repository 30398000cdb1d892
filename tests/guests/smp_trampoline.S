/* Application processors start here in real mode (CS = vector << 8, IP = 0) after SIPI.
 * Each records its initial APIC ID in the mailbox one page after the trampoline, then halts. */
    .section .rodata
    .code16
    .globl ap_trampoline, ap_trampoline_end
ap_trampoline:
    cli
    movw %cs, %ax
    movw %ax, %ds
    movl $1, %eax
    cpuid
    shrl $24, %ebx
    movb $1, 0x1000(%bx)
1:  hlt
    jmp 1b
ap_trampoline_end:
    .code64
