/* smp: finds the CPUs (ACPI MADT or MP table), starts each AP with INIT/SIPI/SIPI through the local
 * APIC, and reports which APIC IDs came up. Exit code: number of CPUs that did not. */
#include "runtime/cpus.h"
#include "runtime/runtime.h"

#define TRAMPOLINE 0x70000ull
#define MAILBOX (TRAMPOLINE + 0x1000)
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define ICR_INIT 0x4500
#define ICR_STARTUP 0x4600
#define ICR_PENDING (1u << 12)
#define TIMEOUT_TSC 3000000000ull

extern const uint8_t ap_trampoline[], ap_trampoline_end[];

static void apic_write(uint32_t lapic, uint32_t reg, uint32_t v) { *(volatile uint32_t *)(uint64_t)(lapic + reg) = v; }
static uint32_t apic_read(uint32_t lapic, uint32_t reg) { return *(volatile uint32_t *)(uint64_t)(lapic + reg); }

static void send_ipi(uint32_t lapic, uint8_t apic_id, uint32_t command) {
    apic_write(lapic, APIC_ICR_HIGH, (uint32_t)apic_id << 24);
    apic_write(lapic, APIC_ICR_LOW, command);
    while (apic_read(lapic, APIC_ICR_LOW) & ICR_PENDING)
        cpu_relax();
}

static uint8_t own_apic_id(void) {
    uint32_t a = 1, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (uint8_t)(b >> 24);
}

int guest_main(const struct boot_info *boot) {
    (void)boot;
    static struct cpu_list cpus;
    if (!find_cpus(&cpus)) {
        print("smp: no MADT or MP table\n");
        return 0x7d;
    }
    print("smp: ");
    print_dec(cpus.count);
    print(" cpus described by the firmware tables\n");

    volatile uint8_t *mailbox = (volatile uint8_t *)MAILBOX;
    memcpy((void *)TRAMPOLINE, ap_trampoline, (size_t)(ap_trampoline_end - ap_trampoline));
    memset((void *)MAILBOX, 0, 256);
    map_mmio(cpus.lapic_addr);
    const uint8_t self = own_apic_id();
    for (uint32_t i = 0; i < cpus.count; i++) {
        if (cpus.apic_id[i] == self)
            continue;
        send_ipi(cpus.lapic_addr, cpus.apic_id[i], ICR_INIT);
        send_ipi(cpus.lapic_addr, cpus.apic_id[i], ICR_STARTUP | (TRAMPOLINE >> 12));
        send_ipi(cpus.lapic_addr, cpus.apic_id[i], ICR_STARTUP | (TRAMPOLINE >> 12));
    }

    int missing = 0;
    const uint64_t start = rdtsc();
    for (uint32_t i = 0; i < cpus.count; i++) {
        const uint8_t id = cpus.apic_id[i];
        if (id != self)
            while (!mailbox[id] && rdtsc() - start < TIMEOUT_TSC)
                cpu_relax();
        print("cpu ");
        print_dec(id);
        if (id == self)
            print(cpus.bsp[i] ? ": bsp, running this report\n" : ": running this report, not the MP bsp\n");
        else if (mailbox[id])
            print(": started, reported its APIC ID\n");
        else {
            print(": did not start\n");
            missing++;
        }
    }
    return missing;
}
