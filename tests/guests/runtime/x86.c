/* The x86 side of the guest runtime: COM1 by port I/O, the debug-exit port, the i8042 reset,
 * 2 MiB MMIO mappings in the boot page tables, and the boot information of the PVH and Linux
 * entries (entry.S). */
#include "runtime.h"

#define COM1 0x3f8
#define LSR_THR_EMPTY 0x20
#define DEBUG_EXIT_PORT 0xf4
#define I8042_COMMAND 0x64
#define I8042_RESET 0xfe
#define BOOT_PVH 1
#define PVH_MAGIC 0x336ec578

void print_char(char c) {
    while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

void debug_exit(uint32_t code) {
    outl(DEBUG_EXIT_PORT, code);
    // Still running: the VMM has no debug-exit port. End through a reset rather than idle.
    i8042_reset();
    for (;;)
        __asm__ volatile("cli; hlt");
}

void i8042_reset(void) { outb(I8042_COMMAND, I8042_RESET); }

int platform_virtio_mmio(uint64_t *bases, int max) {
    (void)bases, (void)max;
    return 0;
}

static uint64_t mmio_pd[512] __attribute__((aligned(4096)));

void map_mmio(uint64_t addr) {
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffull);
    uint64_t *pdpt = (uint64_t *)(pml4[0] & ~0xfffull);
    mmio_pd[(addr >> 21) & 511] = (addr & ~0x1fffffull) | 0x9b; /* P RW PWT PCD PS */
    pdpt[3] = (uint64_t)mmio_pd | 3;
    __asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
}

/* hvm_start_info (Xen arch-x86/hvm/start_info.h) */
struct pvh_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct pvh_memmap_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

static void read_pvh(uint64_t info, struct boot_info *boot) {
    const struct pvh_start_info *si = (const struct pvh_start_info *)info;
    boot->protocol = "pvh";
    if (si->magic != PVH_MAGIC)
        return;
    if (si->cmdline_paddr)
        boot->cmdline = (const char *)si->cmdline_paddr;
    if (si->version < 1)
        return;
    const struct pvh_memmap_entry *map = (const struct pvh_memmap_entry *)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries && i < MAX_MEMMAP; i++) {
        boot->memmap[i].addr = map[i].addr;
        boot->memmap[i].size = map[i].size;
        boot->memmap[i].type = map[i].type;
        boot->memmap_count = i + 1;
    }
}

/* Linux zero page (Documentation/arch/x86/zero-page.rst) */
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_CMD_LINE_PTR 0x228
#define ZP_E820_TABLE 0x2d0
#define E820_ENTRY_SIZE 20

static void read_linux(uint64_t info, struct boot_info *boot) {
    const uint8_t *zp = (const uint8_t *)info;
    boot->protocol = "linux";
    uint64_t cmdline = *(const uint32_t *)(zp + ZP_CMD_LINE_PTR) |
                       ((uint64_t) * (const uint32_t *)(zp + ZP_EXT_CMD_LINE_PTR) << 32);
    if (cmdline)
        boot->cmdline = (const char *)cmdline;
    uint32_t n = zp[ZP_E820_ENTRIES];
    for (uint32_t i = 0; i < n && i < MAX_MEMMAP; i++) {
        const uint8_t *e = zp + ZP_E820_TABLE + i * E820_ENTRY_SIZE;
        memcpy(&boot->memmap[i].addr, e, 8);
        memcpy(&boot->memmap[i].size, e + 8, 8);
        memcpy(&boot->memmap[i].type, e + 16, 4);
        boot->memmap_count = i + 1;
    }
}

static struct boot_info boot_info;

__attribute__((noreturn)) void guest_start(uint32_t kind, uint64_t info) {
    boot_info.cmdline = "";
    if (kind == BOOT_PVH)
        read_pvh(info, &boot_info);
    else
        read_linux(info, &boot_info);
    debug_exit((uint32_t)guest_main(&boot_info));
}
