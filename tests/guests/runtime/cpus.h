/* Finding the CPUs as a guest OS does: the ACPI MADT when there is an RSDP (QEMU microvm),
 * else the Intel MP table (MP spec 1.4, what Ember provides). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define MAX_CPUS 256

struct cpu_list {
    uint32_t count;
    uint8_t apic_id[MAX_CPUS];
    bool bsp[MAX_CPUS];
    uint32_t lapic_addr;
};

/* Fills `out` with the enabled CPUs; false when neither table is found. */
bool find_cpus(struct cpu_list *out);
