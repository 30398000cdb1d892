/* power: ends the VM the way an ACPI guest does, through the registers the FADT names
 * (ACPI 6.5 §4.8.3.6-7, hardware-reduced): power.action=off writes SLP_TYP (from \_S5_,
 * which Ember sets to 5) with SLP_EN to the sleep control register; power.action=reset writes
 * the reset value to the reset register. The VMM must end with status 0 either way; should
 * the write do nothing, the guest falls through to the debug-exit port (status 0x7f). */
#include "runtime/runtime.h"

/* FADT field offsets (ACPI 6.5 §5.2.9). */
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_HW_REDUCED (1u << 20)
#define FADT_RESET_REG_SUP (1u << 10)
#define SLP_TYP_S5 5
#define SLP_EN 0x20

/* A Generic Address Structure naming a byte in I/O space: its port, or 0. */
static uint16_t io_port_of(const uint8_t *gas) {
    return gas[0] == 1 /* system I/O */ ? (uint16_t) * (const uint64_t *)(gas + 4) : 0;
}

int guest_main(const struct boot_info *boot) {
    const uint8_t *fadt = acpi_find_table("FACP");
    check(fadt != 0, "power: FADT found");
    if (!fadt)
        return check_failures();
    const uint32_t flags = *(const uint32_t *)(fadt + FADT_FLAGS);
    check(flags & FADT_HW_REDUCED, "power: hardware-reduced ACPI");
    const char *action = cmdline_value(boot->cmdline, "power.action");
    if (action && action[0] == 'r') {
        check(flags & FADT_RESET_REG_SUP, "power: reset register supported");
        const uint16_t port = io_port_of(fadt + FADT_RESET_REG);
        check(port != 0, "power: reset register is an I/O port");
        print("power: resetting\n");
        outb(port, fadt[FADT_RESET_VALUE]);
    } else {
        const uint16_t port = io_port_of(fadt + FADT_SLEEP_CONTROL_REG);
        check(port != 0, "power: sleep control register is an I/O port");
        print("power: entering S5\n");
        outb(port, (SLP_TYP_S5 << 2) | SLP_EN);
    }
    print("power: still running\n");
    return 0x7f;
}
