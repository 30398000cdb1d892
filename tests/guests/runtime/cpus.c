#include "cpus.h"

#include "runtime.h"

struct mp_floating {
    char signature[4];
    uint32_t config;
    uint8_t length, revision, checksum, features[5];
} __attribute__((packed));

struct mp_config {
    char signature[4];
    uint16_t length;
    uint8_t revision, checksum;
    char oem[8], product[12];
    uint32_t oem_table;
    uint16_t oem_size, entries;
    uint32_t lapic;
    uint16_t ext_length;
    uint8_t ext_checksum, reserved;
} __attribute__((packed));

static bool checksum_ok(const uint8_t *p, uint32_t len) {
    uint8_t sum = 0;
    for (uint32_t i = 0; i < len; i++)
        sum += p[i];
    return sum == 0;
}

static bool has_signature(const void *p, const char *signature) {
    const char *s = p;
    for (; *signature; signature++, s++)
        if (*s != *signature)
            return false;
    return true;
}

/* A 16-byte aligned structure starting with `signature` whose first `len` bytes sum to 0. */
static const void *scan(uint64_t start, uint64_t size, const char *signature, uint32_t len) {
    for (uint64_t a = start; a + len <= start + size; a += 16)
        if (has_signature((const void *)a, signature) && checksum_ok((const uint8_t *)a, len))
            return (const void *)a;
    return 0;
}

/* ACPI 6.5 §5.2.5 RSDP, §5.2.7/8 RSDT/XSDT. */
const uint8_t *acpi_find_table(const char *signature) {
    const uint8_t *rsdp = scan(0xe0000, 0x20000, "RSD PTR ", 20);
    if (!rsdp)
        return 0;
    const bool xsdt = rsdp[15] >= 2 && *(const uint64_t *)(rsdp + 24);
    const uint8_t *sdt = xsdt ? (const uint8_t *)*(const uint64_t *)(rsdp + 24)
                              : (const uint8_t *)(uint64_t)*(const uint32_t *)(rsdp + 16);
    const uint32_t entry_size = xsdt ? 8 : 4;
    const uint32_t length = *(const uint32_t *)(sdt + 4);
    for (uint32_t off = 36; off + entry_size <= length; off += entry_size) {
        uint64_t table = entry_size == 8 ? *(const uint64_t *)(sdt + off) : *(const uint32_t *)(sdt + off);
        if (has_signature((const void *)table, signature))
            return (const uint8_t *)table;
    }
    return 0;
}

static bool acpi_find_cpus(struct cpu_list *out) {
    const uint8_t *madt = acpi_find_table("APIC"); /* §5.2.12 MADT */
    if (!madt)
        return false;
    const uint32_t length = *(const uint32_t *)(madt + 4);
    out->count = 0;
    out->lapic_addr = *(const uint32_t *)(madt + 36);
    for (uint32_t off = 44; off + 2 <= length && madt[off + 1] >= 2; off += madt[off + 1]) {
        const uint8_t *e = madt + off;
        if (e[0] == 0 && (*(const uint32_t *)(e + 4) & 1) && out->count < MAX_CPUS) {
            out->apic_id[out->count] = e[3];
            out->bsp[out->count] = out->count == 0; /* MADT lists the boot processor first */
            out->count++;
        }
    }
    return true;
}

static bool mp_find_cpus(struct cpu_list *out) {
    uint64_t bda_ebda = 0x40e; /* BIOS data area: EBDA segment */
    __asm__("" : "+r"(bda_ebda)); /* a low constant address is not a null-pointer bug */
    uint64_t ebda = (uint64_t)(*(const uint16_t *)bda_ebda) << 4;
    const struct mp_floating *f = ebda ? scan(ebda, 1024, "_MP_", 16) : 0;
    if (!f)
        f = scan(0x9fc00, 1024, "_MP_", 16);
    if (!f)
        f = scan(0xf0000, 0x10000, "_MP_", 16);
    if (!f || !f->config)
        return false;
    const struct mp_config *c = (const struct mp_config *)(uint64_t)f->config;
    if (!has_signature(c, "PCMP") || !checksum_ok((const uint8_t *)c, c->length))
        return false;
    out->count = 0;
    out->lapic_addr = c->lapic;
    const uint8_t *e = (const uint8_t *)(c + 1);
    for (uint16_t i = 0; i < c->entries; i++) {
        if (e[0] == 0) { /* processor, 20 bytes */
            if ((e[3] & 1) && out->count < MAX_CPUS) {
                out->apic_id[out->count] = e[1];
                out->bsp[out->count] = (e[3] & 2) != 0;
                out->count++;
            }
            e += 20;
        } else {
            e += 8;
        }
    }
    return true;
}

bool find_cpus(struct cpu_list *out) { return acpi_find_cpus(out) || mp_find_cpus(out); }
