/* smp (arm64): starts every other vCPU with PSCI CPU_ON (MPIDR 1, 2, ... until KVM answers
 * INVALID_PARAMETERS: no such CPU); each marks itself online. Expects cpus=N on the command
 * line. Exit code: number of failed checks. */
#include "../runtime/runtime.h"
#include "psci.h"

#define MAX_CPUS 9

extern char secondary_entry[];
static volatile uint32_t online[MAX_CPUS];

void arm64_secondary(uint64_t n) {
    if (n < MAX_CPUS)
        online[n] = 1;
    __asm__ volatile("dsb sy; sev" ::: "memory");
}

int guest_main(const struct boot_info *boot) {
    uint64_t expected = 0;
    if (!cmdline_number(boot->cmdline, "cpus", &expected)) {
        print("smp: no cpus=N on the command line\n");
        return 0x7e;
    }
    uint64_t up = 1;
    for (uint64_t cpu = 1; cpu < MAX_CPUS; cpu++) {
        const int64_t ret = psci_call(PSCI_CPU_ON, cpu, (uint64_t)secondary_entry, cpu);
        if (ret == PSCI_RET_INVALID_PARAMS)
            break;
        if (ret != PSCI_RET_SUCCESS) {
            print("smp: CPU_ON failed for cpu ");
            print_dec(cpu);
            print("\n");
            break;
        }
        const uint64_t start = rdtsc();
        while (!online[cpu] && rdtsc() - start < 1000000000ull)
            cpu_relax();
        up += online[cpu];
    }
    print("smp: ");
    print_dec(up);
    print(" cpus online\n");
    check(up == expected, "every vCPU came online");
    return check_failures();
}
