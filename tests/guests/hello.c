/* hello: greets on COM1, then resets the machine through the i8042. */
#include "runtime/runtime.h"

int guest_main(const struct boot_info *boot) {
    (void)boot;
    print("Hello from the Ember test guest!\n");
    i8042_reset();
    /* Still running: the VMM has no i8042 reset. Say so through the exit status. */
    return 0x7f;
}
