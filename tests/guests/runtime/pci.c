#include "pci.h"

#include "runtime.h"

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_SVR 0xf0
#define LAPIC_IRR 0x200

static uint64_t ecam;

static bool ecam_at(uint64_t base) {
    if (base < 0xc0000000ull || base >= 0x100000000ull)
        return false;
    ecam = base;
    map_mmio(ecam);
    return true;
}

/* PCI Firmware 3.3 §4.1.2: MCFG, 44-byte header then 16-byte entries. */
static bool ecam_from_mcfg(void) {
    const uint8_t *mcfg = acpi_find_table("MCFG");
    if (!mcfg)
        return false;
    const uint32_t length = *(const uint32_t *)(mcfg + 4);
    for (uint32_t off = 44; off + 16 <= length; off += 16) {
        const uint64_t base = *(const uint64_t *)(mcfg + off);
        const uint16_t segment = *(const uint16_t *)(mcfg + off + 8);
        if (segment == 0 && mcfg[off + 10] == 0)
            return ecam_at(base);
    }
    return false;
}

/* An AML DWordConst (0x0c) or QWordConst (0x0e) at p. */
static bool aml_integer(const uint8_t *p, uint64_t *value) {
    if (p[0] == 0x0c)
        *value = *(const uint32_t *)(p + 1);
    else if (p[0] == 0x0e)
        *value = *(const uint64_t *)(p + 1);
    else
        return false;
    return true;
}

/* Platforms without MCFG (QEMU microvm) name the window in the host bridge's _CBA (ACPI 6.5
 * §6.5.6), found by scanning the DSDT's AML: Name (_CBA, n) is NameOp "_CBA" n; Method
 * (_CBA) { Return (n) } is "_CBA" MethodFlags ReturnOp n. */
static bool ecam_from_cba(void) {
    const uint8_t *fadt = acpi_find_table("FACP");
    if (!fadt)
        return false;
    const uint32_t fadt_length = *(const uint32_t *)(fadt + 4);
    uint64_t dsdt_addr = fadt_length >= 148 ? *(const uint64_t *)(fadt + 140) : 0;
    if (!dsdt_addr)
        dsdt_addr = *(const uint32_t *)(fadt + 40);
    const uint8_t *dsdt = (const uint8_t *)dsdt_addr;
    const uint32_t length = *(const uint32_t *)(dsdt + 4);
    uint64_t base;
    for (uint32_t i = 36; i + 15 <= length; i++) {
        if (dsdt[i] != '_' || dsdt[i + 1] != 'C' || dsdt[i + 2] != 'B' || dsdt[i + 3] != 'A')
            continue;
        if ((dsdt[i - 1] == 0x08 && aml_integer(dsdt + i + 4, &base)) ||
            (dsdt[i + 5] == 0xa4 && aml_integer(dsdt + i + 6, &base)))
            return ecam_at(base);
    }
    return false;
}

bool pci_ecam_init(void) { return ecam_from_mcfg() || ecam_from_cba(); }

static volatile void *cfg(uint8_t dev, uint16_t off) { return (volatile void *)(ecam + ((uint64_t)dev << 15) + off); }
uint32_t pci_read32(uint8_t dev, uint16_t off) { return *(volatile uint32_t *)cfg(dev, off); }
uint16_t pci_read16(uint8_t dev, uint16_t off) { return *(volatile uint16_t *)cfg(dev, off); }
uint8_t pci_read8(uint8_t dev, uint16_t off) { return *(volatile uint8_t *)cfg(dev, off); }
void pci_write32(uint8_t dev, uint16_t off, uint32_t v) { *(volatile uint32_t *)cfg(dev, off) = v; }
void pci_write16(uint8_t dev, uint16_t off, uint16_t v) { *(volatile uint16_t *)cfg(dev, off) = v; }

static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
uint32_t pci_cf8_read32(uint8_t dev, uint16_t off) {
    outl(0xcf8, 0x80000000u | ((uint32_t)dev << 11) | (off & 0xfc));
    return inl(0xcfc);
}

void pci_size_bars(uint8_t dev, struct pci_bar bars[PCI_BARS], uint64_t *next) {
    const uint16_t command = pci_read16(dev, PCI_COMMAND);
    pci_write16(dev, PCI_COMMAND, command & ~(PCI_COMMAND_MEMORY | 1));
    for (int i = 0; i < PCI_BARS; i++)
        bars[i] = (struct pci_bar){0, 0, false, false};
    for (int i = 0; i < PCI_BARS; i++) {
        const uint16_t reg = (uint16_t)(PCI_BAR0 + 4 * i);
        const uint32_t low = pci_read32(dev, reg);
        struct pci_bar *bar = &bars[i];
        bar->io = low & 1;
        bar->is64 = !bar->io && ((low >> 1) & 3) == 2 && i + 1 < PCI_BARS;
        const uint32_t high = bar->is64 ? pci_read32(dev, reg + 4) : 0;
        pci_write32(dev, reg, 0xffffffffu);
        uint64_t mask = pci_read32(dev, reg) & (bar->io ? ~3u : ~15u);
        if (bar->is64) {
            pci_write32(dev, reg + 4, 0xffffffffu);
            mask |= (uint64_t)pci_read32(dev, reg + 4) << 32;
        } else if (mask) {
            mask |= 0xffffffff00000000ull; /* a 32-bit BAR: the upper half reads as all ones */
        }
        pci_write32(dev, reg, low);
        if (bar->is64)
            pci_write32(dev, reg + 4, high);
        bar->size = mask ? ~mask + 1 : 0;
        if (bar->io && bar->size)
            bar->size &= 0xffff;
        bar->addr = ((uint64_t)high << 32) | (low & (bar->io ? ~3u : ~15u));
        if (!bar->io && bar->size && (!bar->addr || bar->addr >= 0x100000000ull)) {
            /* unassigned, or above 4 GiB where map_mmio() cannot reach */
            *next = (*next + bar->size - 1) & ~(bar->size - 1);
            pci_set_bar(dev, bars, i, *next);
            *next += bar->size;
        } else if (!bar->io && bar->size) {
            map_mmio(bar->addr);
        }
        if (bar->is64)
            i++;
    }
}

void pci_set_bar(uint8_t dev, struct pci_bar bars[PCI_BARS], int bar, uint64_t addr) {
    const uint16_t reg = (uint16_t)(PCI_BAR0 + 4 * bar);
    pci_write32(dev, reg, (uint32_t)addr | (pci_read32(dev, reg) & 15));
    if (bars[bar].is64)
        pci_write32(dev, reg + 4, (uint32_t)(addr >> 32));
    bars[bar].addr = addr;
    map_mmio(addr);
}

uint8_t pci_find_cap(uint8_t dev, uint8_t id, uint8_t from) {
    if (!(pci_read16(dev, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t at = from ? pci_read8(dev, from + 1) : pci_read8(dev, PCI_CAP_PTR);
    for (int hops = 0; at >= 0x40 && hops < 48; hops++) {
        at &= 0xfc;
        if (pci_read8(dev, at) == id)
            return at;
        at = pci_read8(dev, at + 1);
    }
    return 0;
}

/* PCI 3.0 §6.8.2: message control, table and PBA offset/BIR. */
bool msix_init(struct msix *m, uint8_t dev, const struct pci_bar bars[PCI_BARS]) {
    m->dev = dev;
    m->cap = pci_find_cap(dev, PCI_CAP_MSIX, 0);
    if (!m->cap)
        return false;
    m->size = (uint16_t)((pci_read16(dev, m->cap + 2) & 0x7ff) + 1);
    const uint32_t table = pci_read32(dev, m->cap + 4), pba = pci_read32(dev, m->cap + 8);
    const struct pci_bar *tb = &bars[table & 7], *pb = &bars[pba & 7];
    if ((table & 7) >= PCI_BARS || (pba & 7) >= PCI_BARS || !tb->size || !pb->size || tb->io || pb->io)
        return false;
    m->table = (volatile uint32_t *)(tb->addr + (table & ~7u));
    m->pba = (volatile uint64_t *)(pb->addr + (pba & ~7u));
    return true;
}

static void msix_control(struct msix *m, uint16_t bit, bool on) {
    const uint16_t control = pci_read16(m->dev, m->cap + 2);
    pci_write16(m->dev, m->cap + 2, on ? control | bit : control & ~bit);
}
void msix_enable(struct msix *m, bool on) { msix_control(m, 0x8000, on); }
void msix_function_mask(struct msix *m, bool on) { msix_control(m, 0x4000, on); }

void msix_set(struct msix *m, uint16_t i, uint8_t vector) {
    m->table[4 * i] = (uint32_t)LAPIC_BASE; /* destination APIC ID 0, physical */
    m->table[4 * i + 1] = 0;
    m->table[4 * i + 2] = vector; /* fixed, edge */
}
void msix_mask(struct msix *m, uint16_t i, bool on) { m->table[4 * i + 3] = on ? 1 : 0; }
bool msix_pending(const struct msix *m, uint16_t i) { return (m->pba[i / 64] >> (i % 64)) & 1; }

static volatile uint32_t *lapic(uint32_t reg) { return (volatile uint32_t *)(LAPIC_BASE + reg); }
void lapic_enable(void) {
    map_mmio(LAPIC_BASE);
    *lapic(LAPIC_SVR) = 0x100 | 0xff;
}
bool lapic_requested(uint8_t vector) { return (*lapic(LAPIC_IRR + 0x10 * (vector / 32)) >> (vector % 32)) & 1; }

/* An interrupt is a write the device posts after its used-ring update, so a polling guest can
 * see the request complete first: the signs of it are waited for (bounded). */
#define SIGNAL_TIMEOUT_TSC 2000000000ull
bool lapic_wait(uint8_t vector) {
    const uint64_t start = rdtsc();
    while (!lapic_requested(vector))
        if (rdtsc() - start > SIGNAL_TIMEOUT_TSC)
            return false;
    return true;
}
bool msix_wait_pending(const struct msix *m, uint16_t i) {
    const uint64_t start = rdtsc();
    while (!msix_pending(m, i))
        if (rdtsc() - start > SIGNAL_TIMEOUT_TSC)
            return false;
    return true;
}
