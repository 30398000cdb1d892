/* arm64 test guests: an Image (Documentation/arm64/booting.rst) entered at its first byte with
 * x0 = the device tree, wherever the VMM loads it (Ember: RAM from 2 GiB; QEMU `virt`: from
 * 1 GiB; the code is PC-relative, guest.ld). Turns the MMU on (identity map: the first GiB,
 * where both put their devices, Device-nGnRnE; 1-4 GiB Normal write-back) so that the VMM's
 * writes to RAM are seen through the caches, as a real guest's are; then a stack, a clear BSS and arm64_start(dtb). Secondary vCPUs enter at
 * secondary_entry (PSCI CPU_ON) with their number in x0. */
    .section .text.head, "ax"
    .global _head
_head:
    b       primary
    .long   0
    .quad   0                     /* text_offset */
    .quad   _end - _head          /* image_size, BSS included */
    .quad   0xa                   /* little-endian, 4 KiB pages, anywhere in RAM */
    .quad   0, 0, 0
    .ascii  "ARM\x64"
    .long   0

primary:
    mov     x19, x0
    adrp    x1, boot_stack_top
    add     x1, x1, :lo12:boot_stack_top
    mov     sp, x1
    bl      mmu_on
    adrp    x1, __bss_start
    add     x1, x1, :lo12:__bss_start
    adrp    x2, _end
    add     x2, x2, :lo12:_end
1:  cmp     x1, x2
    b.hs    2f
    str     xzr, [x1], #8
    b       1b
2:  mov     x0, x19
    bl      arm64_start
3:  wfi
    b       3b

    .global secondary_entry
secondary_entry:
    /* x0: this CPU's number (the context_id of CPU_ON); 4 KiB of stack each. */
    mov     x19, x0
    adrp    x1, secondary_stacks
    add     x1, x1, :lo12:secondary_stacks
    add     x2, x0, #1
    lsl     x2, x2, #12
    add     x1, x1, x2
    mov     sp, x1
    bl      mmu_on
    mov     x0, x19
    bl      arm64_secondary
4:  wfi
    b       4b

/* MAIR: attr 0 Device-nGnRnE, attr 1 Normal write-back. TCR: 39-bit VA from TTBR0, 4 KiB
 * granule, walks write-back inner shareable, TTBR1 off, 40-bit PA. */
mmu_on:
    adrp    x1, l1_table
    add     x1, x1, :lo12:l1_table
    ldr     x2, =0x0000000000ff00
    msr     mair_el1, x2
    ldr     x2, =0x200803519      /* IPS=2 | EPD1 | SH0=3 | ORGN0=1 | IRGN0=1 | T0SZ=25 */
    msr     tcr_el1, x2
    msr     ttbr0_el1, x1
    dsb     ish
    isb
    mrs     x2, sctlr_el1
    orr     x2, x2, #(1 << 0)     /* M */
    orr     x2, x2, #(1 << 2)     /* C */
    orr     x2, x2, #(1 << 12)    /* I */
    msr     sctlr_el1, x2
    isb
    ret

    .section .data
    .balign 4096
/* Level 1, 1 GiB blocks: 0-1 GiB device (AF, XN), 1-4 GiB normal (AF, inner shareable). */
l1_table:
    .quad   0x0060000000000401
    .quad   0x0000000040000705
    .quad   0x0000000080000705
    .quad   0x00000000c0000705
    .fill   508, 8, 0

    .section .bss
    .balign 16
    .space  16384
boot_stack_top:
    .global secondary_stacks
secondary_stacks:
    .space  4096 * 9
