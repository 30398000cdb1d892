#include "arch/x86_64/acpi.h"

#include <gtest/gtest.h>

#include <numeric>
#include <string>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {
namespace {

struct AcpiTest : ::testing::Test {
    GuestMemory memory = [] {
        const MemoryRegionSpec spec[] = {{0, 0x100000}};
        return std::move(GuestMemory::create(spec).value());
    }();

    uint8_t sum(uint64_t addr, uint64_t len) {
        auto view = memory.slice(addr, len).value();
        return static_cast<uint8_t>(std::accumulate(view.begin(), view.end(), 0u));
    }
    std::string signature(uint64_t addr, size_t len = 4) {
        auto view = memory.slice(addr, len).value();
        return std::string(view.begin(), view.end());
    }
    // Follows RSDP -> XSDT and returns the table with `sig`, or 0.
    uint64_t find(const std::string& sig) {
        const uint64_t xsdt = memory.load<uint64_t>(layout::ACPI_START + 24).value();
        const uint32_t length = memory.load<uint32_t>(xsdt + 4).value();
        for (uint64_t off = 36; off < length; off += 8) {
            const uint64_t table = memory.load<uint64_t>(xsdt + off).value();
            if (signature(table) == sig)
                return table;
        }
        return 0;
    }
};

TEST_F(AcpiTest, RsdpIsFoundWhereLinuxScansAndChecksums) {
    ASSERT_EQ(write_acpi_tables(memory, 2, {}).value(), layout::ACPI_START);
    EXPECT_EQ(signature(layout::ACPI_START, 8), "RSD PTR ");
    EXPECT_EQ(sum(layout::ACPI_START, 20), 0);
    EXPECT_EQ(sum(layout::ACPI_START, 36), 0);
    EXPECT_EQ(memory.load<uint8_t>(layout::ACPI_START + 15).value(), 2);  // revision
}

TEST_F(AcpiTest, EveryTableChecksumsToZero) {
    ASSERT_TRUE(write_acpi_tables(memory, 3, {}).ok());
    for (const char* sig : {"FACP", "APIC"}) {
        const uint64_t table = find(sig);
        ASSERT_NE(table, 0u) << sig;
        EXPECT_EQ(sum(table, memory.load<uint32_t>(table + 4).value()), 0) << sig;
    }
    const uint64_t dsdt = memory.load<uint64_t>(find("FACP") + 140).value();
    EXPECT_EQ(signature(dsdt), "DSDT");
    EXPECT_EQ(sum(dsdt, memory.load<uint32_t>(dsdt + 4).value()), 0);
}

TEST_F(AcpiTest, FadtIsHardwareReduced) {
    ASSERT_TRUE(write_acpi_tables(memory, 1, {}).ok());
    const uint64_t fadt = find("FACP");
    EXPECT_EQ(memory.load<uint32_t>(fadt + 4).value(), 276u);
    EXPECT_TRUE(memory.load<uint32_t>(fadt + 112).value() & (1u << 20));
}

TEST_F(AcpiTest, MadtHasOneEnabledLocalApicPerVcpuAndTheIoApic) {
    ASSERT_TRUE(write_acpi_tables(memory, 4, {}).ok());
    const uint64_t madt = find("APIC");
    EXPECT_EQ(memory.load<uint32_t>(madt + 36).value(), layout::LAPIC_ADDR);
    const uint32_t length = memory.load<uint32_t>(madt + 4).value();
    int cpus = 0, ioapics = 0;
    for (uint64_t off = 44; off < length; off += memory.load<uint8_t>(madt + off + 1).value()) {
        const uint8_t type = memory.load<uint8_t>(madt + off).value();
        if (type == 0) {
            EXPECT_EQ(memory.load<uint8_t>(madt + off + 3).value(), cpus);  // APIC ID
            EXPECT_EQ(memory.load<uint32_t>(madt + off + 4).value(), 1u);   // enabled
            ++cpus;
        } else if (type == 1) {
            EXPECT_EQ(memory.load<uint32_t>(madt + off + 4).value(), layout::IOAPIC_ADDR);
            ++ioapics;
        }
    }
    EXPECT_EQ(cpus, 4);
    EXPECT_EQ(ioapics, 1);
}

TEST_F(AcpiTest, MaximumVcpusStillFitAndMoreAreRejected) {
    EXPECT_TRUE(write_acpi_tables(memory, layout::MAX_VCPUS, {}).ok());
    EXPECT_FALSE(write_acpi_tables(memory, layout::MAX_VCPUS + 1, {}).ok());
    EXPECT_FALSE(write_acpi_tables(memory, 0, {}).ok());
}

}  // namespace
}  // namespace vmm::arch::x86_64
