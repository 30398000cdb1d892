/* cmdline: echoes its command line and memory map, as the boot protocol delivered them. */
#include "runtime/runtime.h"

int guest_main(const struct boot_info *boot) {
    print("cmdline: ");
    print(boot->cmdline);
    print("\n");
    uint64_t ram = 0;
    for (uint32_t i = 0; i < boot->memmap_count; i++) {
        const struct memmap_entry *e = &boot->memmap[i];
        if (!e->size)
            continue;
        print("memmap: ");
        print_hex(e->addr);
        print("-");
        print_hex(e->addr + e->size - 1);
        print(" type ");
        print_dec(e->type);
        print("\n");
        if (e->type == 1)
            ram += e->size;
    }
    print("ram-mib: ");
    print_dec(ram >> 20);
    print("\n");
    return 0;
}
