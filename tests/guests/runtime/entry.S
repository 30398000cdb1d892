/* Entry points of every test guest.
 *   pvh_entry32:   PVH (32-bit protected mode, paging off, EBX = hvm_start_info)
 *   linux_entry64: Linux 64-bit boot protocol (long mode, RSI = boot_params), at +0x200
 * Both end in guest_start(kind, info) on the guest's own stack. */

#define BOOT_PVH 1
#define BOOT_LINUX 2

    .section .note.Xen, "a"
    .balign 4
    .long 4                 /* name size */
    .long 4                 /* descriptor size */
    .long 18                /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_entry32

    .section .head, "ax"
    .code32
    .globl pvh_entry32
pvh_entry32:
    cli
    /* Identity-map the first GiB with 2 MiB pages. EBX (start info) is preserved. */
    movl $pvh_pdpt + 3, pvh_pml4
    movl $pvh_pd + 3, pvh_pdpt
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax
    movl %eax, pvh_pd(,%ecx,8)
    incl %ecx
    cmpl $512, %ecx
    jne 1b
    movl $pvh_pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx          /* EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    lgdt gdt_pointer
    ljmp $0x08, $pvh_long_mode

    .code64
pvh_long_mode:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movl $BOOT_PVH, %edi
    movl %ebx, %esi
    jmp common64

    .org 0x200
    .globl linux_entry64
linux_entry64:
    cli
    movl $BOOT_LINUX, %edi          /* RSI already holds boot_params */
common64:
    leaq boot_stack_top(%rip), %rsp
    call guest_start
2:  hlt
    jmp 2b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9b000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf93000000ffff        /* 0x10: data */
gdt_end:
gdt_pointer:
    .word gdt_end - gdt - 1
    .long gdt

    .section .bss
    .balign 4096
pvh_pml4: .skip 4096
pvh_pdpt: .skip 4096
pvh_pd:   .skip 4096
    .balign 16
boot_stack: .skip 16384
boot_stack_top:
