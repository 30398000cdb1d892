/* The arm64 side of the guest runtime: the 16550 UART on MMIO where Ember's arm64 machine (and
 * its device tree) puts it, the debug-exit register, PSCI through HVC, and the command line
 * from the device tree's /chosen/bootargs. */
#include "../runtime/runtime.h"
#include "psci.h"

#define UART 0x09000000ull
#define UART_LSR 5
#define LSR_THR_EMPTY 0x20
#define DEBUG_EXIT 0x09020000ull

static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)addr; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)addr = v; }

void print_char(char c) {
    while (!(mmio_read8(UART + UART_LSR) & LSR_THR_EMPTY))
        cpu_relax();
    mmio_write8(UART, (uint8_t)c);
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
    *(volatile uint32_t *)DEBUG_EXIT = code;
    /* Still running: the VMM has no debug-exit register. End through PSCI instead of idling. */
    psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
    for (;;)
        __asm__ volatile("wfi");
}

void i8042_reset(void) { psci_call(PSCI_SYSTEM_RESET, 0, 0, 0); }

/* Nothing to map: the first 2 GiB are an identity-mapped device region (entry.S). */
void map_mmio(uint64_t addr) { (void)addr; }

const uint8_t *acpi_find_table(const char *signature) {
    (void)signature;
    return 0;
}

/* The flattened device tree (Devicetree Specification v0.4 §5): big-endian header, then the
 * structure block of tokens; only /chosen/bootargs is read. */
#define FDT_MAGIC 0xd00dfeed
#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

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

static const char *fdt_bootargs(const uint8_t *fdt) {
    if (!fdt || be32(fdt) != FDT_MAGIC)
        return "";
    const uint8_t *p = fdt + be32(fdt + 8);            /* off_dt_struct */
    const char *strings = (const char *)fdt + be32(fdt + 12); /* off_dt_strings */
    int depth = 0;
    bool in_chosen = false;
    for (;;) {
        const uint32_t token = be32(p);
        p += 4;
        if (token == FDT_BEGIN_NODE) {
            const char *name = (const char *)p;
            depth++;
            in_chosen = depth == 2 && equal(name, "chosen");
            p += (length(name) + 4) & ~3ull;
        } else if (token == FDT_END_NODE) {
            depth--;
            in_chosen = false;
        } else if (token == FDT_PROP) {
            const uint32_t len = be32(p), name = be32(p + 4);
            if (in_chosen && equal(strings + name, "bootargs"))
                return (const char *)p + 8;
            p += 8 + ((len + 3) & ~3u);
        } else if (token != FDT_NOP) {
            return "";
        }
    }
}

static struct boot_info boot_info;

__attribute__((noreturn)) void arm64_start(const uint8_t *fdt) {
    boot_info.protocol = "arm64";
    boot_info.cmdline = fdt_bootargs(fdt);
    debug_exit((uint32_t)guest_main(&boot_info));
    for (;;)
        ;
}

/* What a secondary vCPU runs once started (entry.S), for guests that start none. */
__attribute__((weak)) void arm64_secondary(uint64_t n) { (void)n; }
