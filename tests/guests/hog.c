/* hog: what a workload that wants more than its share looks like. With hog.touch=1 it first
 * writes one byte to every 4 KiB page of RAM from 4 MiB up to 1 GiB (the identity-mapped part),
 * printing "hog: touched N MiB"; then it prints "hog: spinning" and spins on the CPU forever.
 * For the jailer's tests: a cgroup's CPU quota must hold it, a memory limit must stop it.
 * With hog.halt=1 it halts instead of spinning ("hog: halted"): memory written and left alone,
 * every touched page alike, for KSM's test. */
#include "runtime/runtime.h"

#define FIRST_PAGE (4ull << 20)
#define MAPPED_END (1ull << 30)

static uint64_t touch_ram(const struct boot_info *boot) {
    uint64_t touched = 0;
    for (uint32_t i = 0; i < boot->memmap_count; i++) {
        const struct memmap_entry *e = &boot->memmap[i];
        if (e->type != 1)
            continue;
        uint64_t start = e->addr < FIRST_PAGE ? FIRST_PAGE : e->addr;
        const uint64_t end = e->addr + e->size < MAPPED_END ? e->addr + e->size : MAPPED_END;
        for (uint64_t page = start; page + 4096 <= end; page += 4096) {
            *(volatile uint8_t *)page = 0x5a;
            touched += 4096;
        }
    }
    return touched;
}

int guest_main(const struct boot_info *boot) {
    uint64_t touch = 0;
    if (cmdline_number(boot->cmdline, "hog.touch", &touch) && touch) {
        const uint64_t mib = touch_ram(boot) >> 20;
        print("hog: touched ");
        print_dec(mib);
        print(" MiB\n");
    }
    uint64_t halt = 0;
    if (cmdline_number(boot->cmdline, "hog.halt", &halt) && halt) {
        print("hog: halted\n");
        for (;;)
            __asm__ volatile("cli; hlt");
    }
    print("hog: spinning\n");
    for (volatile uint64_t n = 0;; n++)
        cpu_relax();
    return 0;
}
