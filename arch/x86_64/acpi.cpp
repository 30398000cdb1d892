#include "arch/x86_64/acpi.h"

#include <cstring>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/table_writer.h"

namespace vmm::arch::x86_64 {

namespace {

// ACPI 6.5 §5.2.5.3: Root System Description Pointer, revision 2.
struct [[gnu::packed]] Rsdp {
    char signature[8];
    uint8_t checksum;
    char oem_id[6];
    uint8_t revision;
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum;
    uint8_t reserved[3];
};
static_assert(sizeof(Rsdp) == 36);

// ACPI 6.5 §5.2.6: System Description Table header.
struct [[gnu::packed]] SdtHeader {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    char creator_id[4];
    uint32_t creator_revision;
};
static_assert(sizeof(SdtHeader) == 36);

// ACPI 6.5 §5.2.9: FADT offsets used here (the table is 276 bytes in revision 6).
constexpr size_t FADT_LENGTH = 276;
constexpr size_t FADT_DSDT = 40;
constexpr size_t FADT_IAPC_BOOT_ARCH = 109;
constexpr size_t FADT_FLAGS = 112;
constexpr size_t FADT_RESET_REG = 116;
constexpr size_t FADT_RESET_VALUE = 128;
constexpr size_t FADT_MINOR_VERSION = 131;
constexpr size_t FADT_X_DSDT = 140;
constexpr size_t FADT_SLEEP_CONTROL_REG = 244;
constexpr size_t FADT_SLEEP_STATUS_REG = 256;
constexpr uint32_t FADT_RESET_REG_SUP = 1u << 10;
constexpr uint32_t FADT_HW_REDUCED_ACPI = 1u << 20;
constexpr uint16_t IAPC_VGA_NOT_PRESENT = 1u << 2;
constexpr uint16_t IAPC_MSI_NOT_SUPPORTED = 1u << 3;
constexpr uint16_t IAPC_CMOS_RTC_NOT_PRESENT = 0;  // the RTC is present

// ACPI 6.5 §5.2.12: MADT and the entries used.
constexpr uint32_t MADT_PCAT_COMPAT = 1;  // a dual 8259 PIC is present
constexpr uint8_t MADT_LOCAL_APIC = 0;
constexpr uint8_t MADT_IO_APIC = 1;
constexpr uint8_t MADT_LOCAL_APIC_NMI = 4;
constexpr uint32_t LOCAL_APIC_ENABLED = 1;

// ACPI 6.5 §5.2.3.2: Generic Address Structure.
struct [[gnu::packed]] GenericAddress {
    uint8_t space_id;
    uint8_t bit_width;
    uint8_t bit_offset;
    uint8_t access_size;
    uint64_t address;
};
static_assert(sizeof(GenericAddress) == 12);

constexpr GenericAddress io_port_byte(uint16_t port) {
    return GenericAddress{1 /* system I/O */, 8, 0, 1 /* byte access */, port};
}

class Table : public TableWriter {
public:
    Table(const char* signature, uint8_t revision) {
        SdtHeader header{};
        std::memcpy(header.signature, signature, 4);
        header.revision = revision;
        std::memcpy(header.oem_id, "EMBER ", 6);
        std::memcpy(header.oem_table_id, "EMBERVM ", 8);
        header.oem_revision = 1;
        std::memcpy(header.creator_id, "EMBR", 4);
        header.creator_revision = 1;
        append(header);
    }
    // Fixes length and checksum; the bytes are final after this.
    const std::vector<uint8_t>& finish() {
        put(offsetof(SdtHeader, length), static_cast<uint32_t>(bytes().size()));
        put<uint8_t>(offsetof(SdtHeader, checksum), 0);
        put(offsetof(SdtHeader, checksum), zero_sum_checksum(bytes().data(), bytes().size()));
        return bytes();
    }
};

// Places tables one after another, 16-byte aligned, below layout::ACPI_END.
class Placer {
public:
    Placer(GuestMemory& memory, uint64_t start) : m_memory(memory), m_next(start) {}
    Result<uint64_t> place(const std::vector<uint8_t>& bytes) {
        const uint64_t addr = (m_next + 15) & ~uint64_t(15);
        if (addr + bytes.size() > layout::ACPI_END)
            return Error("ACPI tables do not fit below the reset vector");
        TRY(m_memory.write(addr, bytes));
        m_next = addr + bytes.size();
        return addr;
    }

private:
    GuestMemory& m_memory;
    uint64_t m_next;
};

std::vector<uint8_t> madt(uint32_t vcpu_count) {
    Table t("APIC", 5);
    t.append(static_cast<uint32_t>(layout::LAPIC_ADDR));
    t.append(MADT_PCAT_COMPAT);
    for (uint32_t cpu = 0; cpu < vcpu_count; ++cpu) {
        const uint8_t entry[] = {MADT_LOCAL_APIC, 8, static_cast<uint8_t>(cpu), static_cast<uint8_t>(cpu)};
        t.append(entry);
        t.append(LOCAL_APIC_ENABLED);
    }
    const uint8_t ioapic[] = {MADT_IO_APIC, 12, static_cast<uint8_t>(vcpu_count), 0};
    t.append(ioapic);
    t.append(static_cast<uint32_t>(layout::IOAPIC_ADDR));
    t.append(uint32_t{0});  // GSI base
    // LINT1 of every processor is NMI (processor UID 0xff = all), as in the MP table.
    const uint8_t nmi[] = {MADT_LOCAL_APIC_NMI, 6, 0xff, 0, 0, 1};
    t.append(nmi);
    return t.finish();
}

// PCI Firmware 3.3 §4.1.2: MCFG, one allocation per segment's ECAM window.
std::vector<uint8_t> mcfg(const PciHostResources& pci) {
    Table t("MCFG", 1);
    t.append(uint64_t{0});  // reserved
    t.append(pci.ecam_base);
    t.append(uint16_t{0});                                                   // segment
    t.append(uint8_t{0});                                                    // first bus
    t.append(static_cast<uint8_t>(pci.ecam_size / (1u << 20) - 1));          // last bus
    t.append(uint32_t{0});                                                   // reserved
    return t.finish();
}

// msi: whether the machine has a bus whose devices use MSI (PCI); without, the FADT says so.
std::vector<uint8_t> fadt(uint64_t dsdt_addr, bool msi) {
    Table t("FACP", 6);
    t.put(FADT_DSDT, static_cast<uint32_t>(dsdt_addr));
    t.put<uint16_t>(FADT_IAPC_BOOT_ARCH,
                    IAPC_VGA_NOT_PRESENT | (msi ? 0 : IAPC_MSI_NOT_SUPPORTED) | IAPC_CMOS_RTC_NOT_PRESENT);
    t.put(FADT_FLAGS, FADT_HW_REDUCED_ACPI | FADT_RESET_REG_SUP);
    // §4.8.3.7: hardware-reduced sleep (power-off writes SLP_TYP | SLP_EN) and §4.8.3.6 reset.
    t.put(FADT_RESET_REG, io_port_byte(layout::ACPI_RESET_PORT));
    t.put(FADT_RESET_VALUE, layout::ACPI_RESET_VALUE);
    t.put<uint8_t>(FADT_MINOR_VERSION, 5);
    t.put(FADT_X_DSDT, dsdt_addr);
    t.put(FADT_SLEEP_CONTROL_REG, io_port_byte(layout::ACPI_SLEEP_CONTROL_PORT));
    t.put(FADT_SLEEP_STATUS_REG, io_port_byte(layout::ACPI_SLEEP_STATUS_PORT));
    t.put<uint8_t>(FADT_LENGTH - 1, 0);  // size the table to its full length
    return t.finish();
}

}  // namespace

Result<uint64_t> write_acpi_tables(GuestMemory& memory, uint32_t vcpu_count, const AcpiDevices& devices) {
    if (vcpu_count == 0 || vcpu_count > layout::MAX_VCPUS)
        return Error(fmt::format("ACPI: {} vCPUs out of range", vcpu_count));
    Placer placer(memory, layout::ACPI_START + sizeof(Rsdp));

    Table dsdt("DSDT", 2);
    const auto body = dsdt_body(devices);
    dsdt.bytes().insert(dsdt.bytes().end(), body.begin(), body.end());
    const uint64_t dsdt_addr = TRY(placer.place(dsdt.finish()));
    const uint64_t fadt_addr = TRY(placer.place(fadt(dsdt_addr, devices.pci.has_value())));
    const uint64_t madt_addr = TRY(placer.place(madt(vcpu_count)));

    Table xsdt("XSDT", 1);
    xsdt.append(fadt_addr);
    xsdt.append(madt_addr);
    if (devices.pci)
        xsdt.append(TRY(placer.place(mcfg(*devices.pci))));
    const uint64_t xsdt_addr = TRY(placer.place(xsdt.finish()));

    Rsdp rsdp{};
    std::memcpy(rsdp.signature, "RSD PTR ", 8);
    std::memcpy(rsdp.oem_id, "EMBER ", 6);
    rsdp.revision = 2;
    rsdp.length = sizeof(Rsdp);
    rsdp.xsdt_address = xsdt_addr;
    rsdp.checksum = zero_sum_checksum(&rsdp, 20);
    rsdp.extended_checksum = zero_sum_checksum(&rsdp, sizeof rsdp);
    TRY(memory.store(layout::ACPI_START, rsdp));
    return layout::ACPI_START;
}

}  // namespace vmm::arch::x86_64
