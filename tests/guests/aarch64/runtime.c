/* The arm64 side of the guest runtime: what the device tree describes (the UART, a 16550 on
 * MMIO as Ember's machine has or a PL011 as QEMU's `virt` has; the virtio-mmio windows; the
 * command line in /chosen/bootargs), Ember's debug-exit register, PSCI through HVC. The same
 * Image thus runs under Ember and under QEMU `-M virt` (the differential in
 * tests/aarch64/cases.sh). */
#include "../runtime/runtime.h"
#include "psci.h"

#define UART_16550_LSR 5
#define LSR_THR_EMPTY 0x20
#define PL011_FR 0x18
#define FR_TXFF 0x20
#define DEBUG_EXIT 0x09020000ull

static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)addr = v; }

/* What the device tree told; before it is read (and if it is unreadable), Ember's machine. */
static struct {
    uint64_t uart;
    bool pl011;
    bool debug_exit_free; /* no device of the DT at DEBUG_EXIT (QEMU `virt` has fw_cfg there) */
    int virtio_count;
    uint64_t virtio[PLATFORM_MAX_VIRTIO_MMIO];
} platform = {0x09000000ull, false, true, 0, {0}};

void print_char(char c) {
    if (platform.pl011) {
        while (mmio_read32(platform.uart + PL011_FR) & FR_TXFF)
            cpu_relax();
        mmio_write32(platform.uart, (uint8_t)c);
        return;
    }
    while (!(mmio_read8(platform.uart + UART_16550_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    mmio_write8(platform.uart, (uint8_t)c);
}

int64_t psci_call(uint64_t function, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t x0 __asm__("x0") = function;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    __asm__ volatile("hvc #0" : "+r"(x0) : "r"(x1), "r"(x2), "r"(x3) : "memory");
    return (int64_t)x0;
}

void debug_exit(uint32_t code) {
    if (platform.debug_exit_free)
        mmio_write32(DEBUG_EXIT, code);
    /* Still running: the VMM has no debug-exit register. End through PSCI instead of idling. */
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}

void i8042_reset(void) { psci_call(PSCI_SYSTEM_RESET, 0, 0, 0); }

/* Nothing to map: the first GiB is an identity-mapped device region (entry.S). */
void map_mmio(uint64_t addr) { (void)addr; }

const uint8_t *acpi_find_table(const char *signature) {
    (void)signature;
    return 0;
}

int platform_virtio_mmio(uint64_t *bases, int max) {
    int n = 0;
    for (; n < platform.virtio_count && n < max; n++)
        bases[n] = platform.virtio[n];
    return n;
}

/* The flattened device tree (Devicetree Specification v0.4 §5): big-endian header, then the
 * structure block of tokens. Read: the root's #address-cells, each child of the root's
 * compatible and first reg address, and /chosen/bootargs. */
#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static bool equal(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static size_t length(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* Whether the stringlist property (len bytes at list) holds `name`. */
static bool has_string(const char *list, uint32_t len, const char *name) {
    for (uint32_t at = 0; at < len; at += (uint32_t)length(list + at) + 1)
        if (equal(list + at, name))
            return true;
    return false;
}

/* One child of the root, once its properties are read: where the runtime's devices are. */
static void found_node(const char *compatible, uint32_t compatible_len, bool has_reg, uint64_t reg) {
    if (!has_reg)
        return;
    if (reg == DEBUG_EXIT)
        platform.debug_exit_free = false;
    if (!compatible)
        return;
    const bool pl011 = has_string(compatible, compatible_len, "arm,pl011");
    if (pl011 || has_string(compatible, compatible_len, "ns16550a")) {
        platform.uart = reg;
        platform.pl011 = pl011;
    } else if (has_string(compatible, compatible_len, "virtio,mmio") && platform.virtio_count < PLATFORM_MAX_VIRTIO_MMIO) {
        platform.virtio[platform.virtio_count++] = reg;
    }
}

static const char *read_fdt(const uint8_t *fdt) {
    const char *bootargs = "";
    if (!fdt || be32(fdt) != FDT_MAGIC)
        return bootargs;
    const uint8_t *p = fdt + be32(fdt + 8);                   /* off_dt_struct */
    const char *strings = (const char *)fdt + be32(fdt + 12); /* off_dt_strings */
    uint32_t address_cells = 2;
    int depth = 0;
    bool in_chosen = false, has_reg = false;
    const char *compatible = 0;
    uint32_t compatible_len = 0;
    uint64_t reg = 0;
    for (;;) {
        const uint32_t token = be32(p);
        p += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            depth++;
            if (depth == 2) {
                in_chosen = equal(name, "chosen");
                compatible = 0, has_reg = false;
            }
            p += (length(name) + 4) & ~3ull;
        } else if (token == FDT_END_NODE) {
            if (depth == 2)
                found_node(compatible, compatible_len, has_reg, reg);
            if (--depth == 0)
                return bootargs;
        } else if (token == FDT_PROP) {
            const uint32_t len = be32(p);
            const char *name = strings + be32(p + 4);
            const uint8_t *value = p + 8;
            if (depth == 1 && equal(name, "#address-cells") && len == 4)
                address_cells = be32(value);
            else if (depth == 2 && in_chosen && equal(name, "bootargs"))
                bootargs = (const char *)value;
            else if (depth == 2 && equal(name, "compatible"))
                compatible = (const char *)value, compatible_len = len;
            else if (depth == 2 && equal(name, "reg") && (address_cells == 1 || address_cells == 2) &&
                     len >= 4 * address_cells) {
                reg = address_cells == 2 ? (uint64_t)be32(value) << 32 | be32(value + 4) : be32(value);
                has_reg = true;
            }
            p += 8 + ((len + 3) & ~3u);
        } else if (token != FDT_NOP) {
            return bootargs;
        }
    }
}

static struct boot_info boot_info;

__attribute__((noreturn)) void arm64_start(const uint8_t *fdt) {
    boot_info.protocol = "arm64";
    boot_info.cmdline = read_fdt(fdt);
    debug_exit((uint32_t)guest_main(&boot_info));
    for (;;)
        ;
}

/* What a secondary vCPU runs once started (entry.S), for guests that start none. */
__attribute__((weak)) void arm64_secondary(uint64_t n) { (void)n; }
