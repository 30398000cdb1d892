/* exitcode: exits through the debug port with the value of exitcode=N on its command line. */
#include "runtime/runtime.h"

int guest_main(const struct boot_info *boot) {
    uint64_t code = 0;
    if (!cmdline_number(boot->cmdline, "exitcode", &code)) {
        print("exitcode: no exitcode=N on the command line\n");
        return 0x7e;
    }
    print("exitcode: exiting with ");
    print_dec(code);
    print("\n");
    return (int)code;
}
