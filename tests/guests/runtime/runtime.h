/* The shared runtime of the freestanding test guests: a polled 16550 console, number printing,
 * boot information and ways to end the VM. x86 (x86.c, entry.S): port I/O, PVH or Linux zero
 * page; arm64 (aarch64/runtime.c, aarch64/entry.S): MMIO UART, the device tree's bootargs.
 * Guests poll; they never enable interrupts. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_MEMMAP 32

struct memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
};

struct boot_info {
    const char *protocol; /* "pvh" or "linux" */
    const char *cmdline;  /* "" when none */
    uint32_t memmap_count;
    struct memmap_entry memmap[MAX_MEMMAP];
};

/* Each guest defines this; its return value is written to the debug-exit port. */
int guest_main(const struct boot_info *boot);

#if defined(__x86_64__)
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
/* Ordering for the virtqueues: x86 keeps stores (and loads) in order; only a store before the
 * notification's MMIO write needs a fence. */
static inline void write_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void read_barrier(void) { __asm__ volatile("" ::: "memory"); }
static inline void full_barrier(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
#elif defined(__aarch64__)
static inline void cpu_relax(void) { __asm__ volatile("yield" ::: "memory"); }
static inline void write_barrier(void) { __asm__ volatile("dmb ishst" ::: "memory"); }
static inline void read_barrier(void) { __asm__ volatile("dmb ishld" ::: "memory"); }
static inline void full_barrier(void) { __asm__ volatile("dsb sy" ::: "memory"); }
/* The virtual counter stands in for the TSC: timeouts are counted in its ticks. */
static inline uint64_t rdtsc(void) {
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
}
#endif

void print(const char *s);
void print_char(char c);
void print_dec(uint64_t v);
void print_hex(uint64_t v);

/* QEMU isa-debug-exit (x86: port 0xf4; arm64: Ember's MMIO register): the VMM exits with
 * (code << 1) | 1. */
__attribute__((noreturn)) void debug_exit(uint32_t code);
/* x86: pulse the reset line through the i8042 (what Linux does with reboot=k); arm64: PSCI
 * SYSTEM_RESET. */
void i8042_reset(void);

/* The ACPI table with this 4-byte signature, through RSDP -> XSDT (or RSDT), or null. */
const uint8_t *acpi_find_table(const char *signature);

/* Identity-maps (uncached) the 2 MiB page holding `addr`, an MMIO address in 3..4 GiB
 * (LAPIC, virtio-mmio windows), into whichever page tables are live. */
void map_mmio(uint64_t addr);

/* The virtio-mmio windows the platform describes outside the command line (arm64: the device
 * tree's virtio,mmio nodes; x86: none), up to max into bases; returns how many. At most
 * PLATFORM_MAX_VIRTIO_MMIO (QEMU `virt` describes 32, most of them empty). */
#define PLATFORM_MAX_VIRTIO_MMIO 32
int platform_virtio_mmio(uint64_t *bases, int max);

/* Prints "<what>: ok" or "<what>: FAILED"; check_failures() counts the failed ones (a guest's
 * exit code). */
void check(bool ok, const char *what);
int check_failures(void);

/* The value of "key=value" in the command line (up to the next space), or null. */
const char *cmdline_value(const char *cmdline, const char *key);
/* "key=value" lookup in the command line; returns false when absent or not a number. */
bool cmdline_number(const char *cmdline, const char *key, uint64_t *value);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
