/* counter: prints "tick 0" .. "tick 999" on COM1, one about every 2 million TSC cycles (about a
 * millisecond: the run takes a second or two on any host, long enough to be paused and resumed
 * many times), then resets through the i8042 (Ember exits 0). Its output does not depend on
 * timing, so a paused and resumed run must print exactly what an undisturbed one does. */
#include "runtime/runtime.h"

#define TICKS 1000
#define TICK_TSC 2000000ull

int guest_main(const struct boot_info *boot) {
    (void)boot;
    for (uint64_t i = 0; i < TICKS; i++) {
        const uint64_t start = rdtsc();
        while (rdtsc() - start < TICK_TSC)
            cpu_relax();
        print("tick ");
        print_dec(i);
        print("\n");
    }
    print("counter: done\n");
    i8042_reset();
    return 0x7f;
}
