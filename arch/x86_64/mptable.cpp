#include "arch/x86_64/mptable.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/table_writer.h"

namespace vmm::arch::x86_64 {

namespace {

// MP spec 1.4 §4.1: MP floating pointer structure.
struct [[gnu::packed]] MpFloatingPointer {
    char signature[4];
    uint32_t config_table;
    uint8_t length_paragraphs;
    uint8_t spec_rev;
    uint8_t checksum;
    uint8_t features[5];
};
static_assert(sizeof(MpFloatingPointer) == 16);

// MP spec 1.4 §4.2: configuration table header.
struct [[gnu::packed]] MpConfigHeader {
    char signature[4];
    uint16_t base_length;
    uint8_t spec_rev;
    uint8_t checksum;
    char oem_id[8];
    char product_id[12];
    uint32_t oem_table;
    uint16_t oem_table_size;
    uint16_t entry_count;
    uint32_t lapic_addr;
    uint16_t ext_length;
    uint8_t ext_checksum;
    uint8_t reserved;
};
static_assert(sizeof(MpConfigHeader) == 44);

// MP spec 1.4 §4.3.1-§4.3.5: the entry types.
struct [[gnu::packed]] MpProcessor {
    uint8_t type;  // 0
    uint8_t apic_id;
    uint8_t apic_version;
    uint8_t flags;  // bit 0 enabled, bit 1 bootstrap processor
    uint32_t signature;
    uint32_t features;
    uint32_t reserved[2];
};
static_assert(sizeof(MpProcessor) == 20);

struct [[gnu::packed]] MpBus {
    uint8_t type;  // 1
    uint8_t bus_id;
    char bus_type[6];
};
static_assert(sizeof(MpBus) == 8);

struct [[gnu::packed]] MpIoApic {
    uint8_t type;  // 2
    uint8_t apic_id;
    uint8_t apic_version;
    uint8_t flags;
    uint32_t address;
};
static_assert(sizeof(MpIoApic) == 8);

struct [[gnu::packed]] MpInterrupt {
    uint8_t type;  // 3 = I/O interrupt, 4 = local interrupt
    uint8_t irq_type;
    uint16_t irq_flags;
    uint8_t source_bus;
    uint8_t source_irq;
    uint8_t dest_apic;
    uint8_t dest_pin;
};
static_assert(sizeof(MpInterrupt) == 8);

constexpr uint8_t MP_SPEC_REV = 4;
constexpr uint8_t APIC_VERSION = 0x14;
constexpr uint8_t IOAPIC_VERSION = 0x11;
constexpr uint8_t CPU_ENABLED = 1;
constexpr uint8_t CPU_BOOTSTRAP = 2;
constexpr uint32_t CPU_SIGNATURE = 0x600;     // family 6
constexpr uint32_t CPU_FEATURES = 0x201;      // FPU, APIC
constexpr uint8_t IRQ_TYPE_INT = 0;
constexpr uint8_t IRQ_TYPE_NMI = 1;
constexpr uint8_t IRQ_TYPE_EXTINT = 3;
constexpr uint8_t ISA_BUS = 0;
constexpr uint8_t ALL_LAPICS = 0xff;

}  // namespace

Result<uint64_t> write_mptable(GuestMemory& memory, uint32_t vcpu_count) {
    if (vcpu_count == 0 || vcpu_count > layout::MAX_VCPUS)
        return Error(fmt::format("MP table: {} vCPUs out of range", vcpu_count));
    const uint8_t ioapic_id = static_cast<uint8_t>(vcpu_count);

    TableWriter table;
    table.append(MpConfigHeader{});
    uint16_t entries = 0;
    for (uint32_t cpu = 0; cpu < vcpu_count; ++cpu, ++entries) {
        const uint8_t flags = CPU_ENABLED | (cpu == 0 ? CPU_BOOTSTRAP : 0);
        table.append(MpProcessor{0, static_cast<uint8_t>(cpu), APIC_VERSION, flags, CPU_SIGNATURE,
                                 CPU_FEATURES, {0, 0}});
    }
    table.append(MpBus{1, ISA_BUS, {'I', 'S', 'A', ' ', ' ', ' '}});
    table.append(MpIoApic{2, ioapic_id, IOAPIC_VERSION, CPU_ENABLED,
                          static_cast<uint32_t>(layout::IOAPIC_ADDR)});
    entries += 2;
    for (uint32_t pin = 0; pin < layout::IOAPIC_PINS; ++pin, ++entries) {
        table.append(MpInterrupt{3, IRQ_TYPE_INT, 0, ISA_BUS, static_cast<uint8_t>(pin), ioapic_id,
                                 static_cast<uint8_t>(pin)});
    }
    table.append(MpInterrupt{4, IRQ_TYPE_EXTINT, 0, ISA_BUS, 0, ALL_LAPICS, 0});
    table.append(MpInterrupt{4, IRQ_TYPE_NMI, 0, ISA_BUS, 0, ALL_LAPICS, 1});
    entries += 2;

    auto& bytes = table.bytes();
    MpConfigHeader header{};
    std::memcpy(header.signature, "PCMP", 4);
    header.base_length = static_cast<uint16_t>(bytes.size());
    header.spec_rev = MP_SPEC_REV;
    std::memcpy(header.oem_id, "EMBER   ", 8);
    std::memcpy(header.product_id, "MICROVM     ", 12);
    header.entry_count = entries;
    header.lapic_addr = static_cast<uint32_t>(layout::LAPIC_ADDR);
    std::memcpy(bytes.data(), &header, sizeof header);
    bytes[offsetof(MpConfigHeader, checksum)] = zero_sum_checksum(bytes.data(), bytes.size());

    const uint64_t config_addr = layout::MPTABLE_ADDR + sizeof(MpFloatingPointer);
    MpFloatingPointer pointer{};
    std::memcpy(pointer.signature, "_MP_", 4);
    pointer.config_table = static_cast<uint32_t>(config_addr);
    pointer.length_paragraphs = 1;
    pointer.spec_rev = MP_SPEC_REV;
    pointer.checksum = zero_sum_checksum(&pointer, sizeof pointer);

    TRY(memory.store(layout::MPTABLE_ADDR, pointer));
    TRY(memory.write(config_addr, bytes));
    return sizeof(MpFloatingPointer) + bytes.size();
}

}  // namespace vmm::arch::x86_64
