/* probe: times a tight loop with the TSC. On VT-x/AMD-V an iteration costs a few cycles; under
 * KVM's instruction emulator (PVM hosts) it costs thousands. The Linux boot suite reads this. */
#include "runtime/runtime.h"

#define ITERATIONS 20000

int guest_main(const struct boot_info *boot) {
    (void)boot;
    uint64_t start = rdtsc();
    for (volatile uint32_t i = 0; i < ITERATIONS; i = i + 1)
        ;
    uint64_t cycles = rdtsc() - start;
    print("probe: cycles-per-iteration ");
    print_dec(cycles / ITERATIONS);
    print("\n");
    return 0;
}
