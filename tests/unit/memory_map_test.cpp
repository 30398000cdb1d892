#include "arch/x86_64/memory_map.h"

#include <gtest/gtest.h>

namespace vmm::arch::x86_64 {
namespace {

constexpr uint64_t MiB = 1 << 20, GiB = 1ull << 30;

TEST(MemoryMap, SmallGuestIsOneRegion) {
    auto regions = ram_regions(256 * MiB);
    ASSERT_EQ(regions.size(), 1u);
    EXPECT_EQ(regions[0].gpa, 0u);
    EXPECT_EQ(regions[0].size, 256 * MiB);
}

TEST(MemoryMap, LargeGuestSkipsTheMmioHole) {
    auto regions = ram_regions(4 * GiB);
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].size, 3 * GiB);
    EXPECT_EQ(regions[1].gpa, 4 * GiB);
    EXPECT_EQ(regions[1].size, 1 * GiB);
}

TEST(MemoryMap, E820ReservesEbdaAndBiosArea) {
    const std::vector<MemoryMapEntry> expected{
        {0, 0x9fc00, MemoryType::Ram},
        {0x9fc00, 0x100000 - 0x9fc00, MemoryType::Reserved},
        {0x100000, 256 * MiB - 0x100000, MemoryType::Ram},
    };
    EXPECT_EQ(e820_map(256 * MiB), expected);
}

TEST(MemoryMap, E820ListsRamAbove4G) {
    auto map = e820_map(5 * GiB);
    ASSERT_EQ(map.size(), 4u);
    EXPECT_EQ(map[2].addr + map[2].size, 3 * GiB);
    EXPECT_EQ(map[3], (MemoryMapEntry{4 * GiB, 2 * GiB, MemoryType::Ram}));
}

TEST(MemoryMap, E820RamAddsUpToGuestMemoryLessTheLegacyHole) {
    uint64_t ram = 0;
    for (const auto& e : e820_map(5 * GiB))
        if (e.type == MemoryType::Ram)
            ram += e.size;
    EXPECT_EQ(ram, 5 * GiB - (0x100000 - 0x9fc00));
}

}  // namespace
}  // namespace vmm::arch::x86_64
