/* PCI for test guests: configuration space through ECAM (the window the ACPI MCFG table
 * names) and through the legacy 0xCF8/0xCFC ports, BAR sizing and placement, capability
 * walking and MSI-X table entries. Bus 0, function 0 only: what a microVM has. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define PCI_VENDOR 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION 0x08
#define PCI_CLASS 0x0a
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CAP_PTR 0x34
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_MSIX 0x11
#define PCI_CAP_VENDOR 0x09
#define PCI_BARS 6

struct pci_bar {
    uint64_t addr;
    uint64_t size; /* 0: not implemented (or the upper half of a 64-bit BAR) */
    bool is64;
    bool io;
};

/* Finds the ECAM window of segment 0, bus 0 (MCFG, else the DSDT's _CBA) and maps it; false
 * when there is none below 4 GiB. */
bool pci_ecam_init(void);
uint32_t pci_read32(uint8_t dev, uint16_t off);
uint16_t pci_read16(uint8_t dev, uint16_t off);
uint8_t pci_read8(uint8_t dev, uint16_t off);
void pci_write32(uint8_t dev, uint16_t off, uint32_t v);
void pci_write16(uint8_t dev, uint16_t off, uint16_t v);
/* The same dword through 0xCF8/0xCFC (configuration mechanism #1). */
uint32_t pci_cf8_read32(uint8_t dev, uint16_t off);

/* Sizes every BAR of `dev` (all-ones written, the mask read back; decoding off meanwhile),
 * keeps the addresses below 4 GiB the platform gave (mapped), and places unassigned memory
 * BARs and those above 4 GiB at *next upward (aligned to their size). Leaves decoding off. */
void pci_size_bars(uint8_t dev, struct pci_bar bars[PCI_BARS], uint64_t *next);
/* Moves memory BAR `bar` to `addr`. */
void pci_set_bar(uint8_t dev, struct pci_bar bars[PCI_BARS], int bar, uint64_t addr);
/* The offset of the first capability with `id` after `from` (0: from the list head), or 0. */
uint8_t pci_find_cap(uint8_t dev, uint8_t id, uint8_t from);

/* MSI-X: the table and PBA of a function, both in memory BARs. */
struct msix {
    uint8_t dev;
    uint8_t cap;
    uint16_t size;
    volatile uint32_t *table;
    volatile uint64_t *pba;
};
bool msix_init(struct msix *m, uint8_t dev, const struct pci_bar bars[PCI_BARS]);
void msix_enable(struct msix *m, bool on);
void msix_function_mask(struct msix *m, bool on);
/* Entry `i` sends `vector` to the boot CPU's local APIC (fixed, edge). */
void msix_set(struct msix *m, uint16_t i, uint8_t vector);
void msix_mask(struct msix *m, uint16_t i, bool on);
bool msix_pending(const struct msix *m, uint16_t i);
/* Waits (bounded) for entry `i`'s pending bit: what a masked vector's interrupt leaves. */
bool msix_wait_pending(const struct msix *m, uint16_t i);

/* The boot CPU's local APIC, software-enabled (xAPIC, 0xFEE00000): interrupts stay off, so a
 * delivered vector stays requested in the IRR, where the guest looks for it. */
void lapic_enable(void);
bool lapic_requested(uint8_t vector);
/* Waits (bounded) for `vector` to be requested. */
bool lapic_wait(uint8_t vector);
