#include "arch/x86_64/mptable.h"

#include <gtest/gtest.h>

#include <numeric>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {
namespace {

GuestMemory low_memory() {
    const MemoryRegionSpec spec[] = {{0, 0x100000}};
    return std::move(GuestMemory::create(spec).value());
}

uint8_t sum(const GuestMemory& memory, uint64_t addr, uint64_t len) {
    auto view = memory.slice(addr, len).value();
    return static_cast<uint8_t>(std::accumulate(view.begin(), view.end(), 0u));
}

TEST(MpTable, FloatingPointerAndConfigTableChecksumToZero) {
    auto memory = low_memory();
    ASSERT_TRUE(write_mptable(memory, 4).ok());
    EXPECT_EQ(memory.load<uint32_t>(layout::MPTABLE_ADDR).value(), 0x5f504d5fu);  // "_MP_"
    EXPECT_EQ(sum(memory, layout::MPTABLE_ADDR, 16), 0);
    const uint32_t config = memory.load<uint32_t>(layout::MPTABLE_ADDR + 4).value();
    const uint16_t length = memory.load<uint16_t>(config + 4).value();
    EXPECT_EQ(memory.load<uint32_t>(config).value(), 0x504d4350u);  // "PCMP"
    EXPECT_EQ(sum(memory, config, length), 0);
}

TEST(MpTable, OneProcessorEntryPerVcpuWithBspFirst) {
    auto memory = low_memory();
    ASSERT_TRUE(write_mptable(memory, 3).ok());
    const uint32_t config = memory.load<uint32_t>(layout::MPTABLE_ADDR + 4).value();
    EXPECT_EQ(memory.load<uint16_t>(config + 34).value(), 3 + 2 + 24 + 2);  // entry count
    EXPECT_EQ(memory.load<uint32_t>(config + 36).value(), layout::LAPIC_ADDR);
    for (uint8_t cpu = 0; cpu < 3; ++cpu) {
        const uint64_t e = config + 44 + cpu * 20;
        EXPECT_EQ(memory.load<uint8_t>(e).value(), 0);        // processor
        EXPECT_EQ(memory.load<uint8_t>(e + 1).value(), cpu);  // APIC ID
        EXPECT_EQ(memory.load<uint8_t>(e + 3).value(), cpu == 0 ? 3 : 1);
    }
}

TEST(MpTable, RejectsZeroAndTooManyVcpus) {
    auto memory = low_memory();
    EXPECT_FALSE(write_mptable(memory, 0).ok());
    EXPECT_FALSE(write_mptable(memory, layout::MAX_VCPUS + 1).ok());
    EXPECT_TRUE(write_mptable(memory, layout::MAX_VCPUS).ok());
}

}  // namespace
}  // namespace vmm::arch::x86_64
