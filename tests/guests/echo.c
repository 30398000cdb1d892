/* echo: says "ready", then echoes what arrives on COM1 (polled) until a '.', and exits with
 * the number of bytes echoed. Without input it waits forever: the signal tests use that. */
#include "runtime/runtime.h"

#define COM1 0x3f8
#define LSR_DATA_READY 0x01

int guest_main(const struct boot_info *boot) {
    (void)boot;
    print("ready\n");
    int count = 0;
    for (;;) {
        while (!(inb(COM1 + 5) & LSR_DATA_READY))
            cpu_relax();
        char c = (char)inb(COM1);
        if (c == '.')
            break;
        print_char(c);
        count++;
    }
    print("\necho: done\n");
    return count;
}
