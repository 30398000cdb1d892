#include "boot/x86_64/pvh.h"

#include <gtest/gtest.h>

namespace vmm::boot {
namespace {

GuestMemory small_memory() {
    const MemoryRegionSpec spec[] = {{0, 0x100000}};
    return std::move(GuestMemory::create(spec).value());
}

TEST(Pvh, StartInfoListsMemoryMapAndModule) {
    auto memory = small_memory();
    const std::vector<MemoryMapEntry> e820{{0, 0x9fc00, MemoryType::Ram}, {0x100000, 0x100000, MemoryType::Ram}};
    auto base = write_pvh_start_info(memory, 0x6000, 0x20000, 0xe0000, {0x80000, 0x1234}, e820);
    ASSERT_TRUE(base.ok());
    auto info = memory.load<HvmStartInfo>(*base).value();
    EXPECT_EQ(info.magic, 0x336ec578u);
    EXPECT_EQ(info.version, 1u);
    EXPECT_EQ(info.cmdline_paddr, 0x20000u);
    EXPECT_EQ(info.rsdp_paddr, 0xe0000u);
    ASSERT_EQ(info.memmap_entries, 2u);
    auto second = memory.load<HvmMemmapEntry>(info.memmap_paddr + sizeof(HvmMemmapEntry)).value();
    EXPECT_EQ(second.addr, 0x100000u);
    EXPECT_EQ(second.type, 1u);
    ASSERT_EQ(info.nr_modules, 1u);
    auto module = memory.load<HvmModlistEntry>(info.modlist_paddr).value();
    EXPECT_EQ(module.paddr, 0x80000u);
    EXPECT_EQ(module.size, 0x1234u);
}

TEST(Pvh, NoInitrdMeansNoModules) {
    auto memory = small_memory();
    auto base = write_pvh_start_info(memory, 0x6000, 0x20000, 0, {}, {});
    ASSERT_TRUE(base.ok());
    auto info = memory.load<HvmStartInfo>(*base).value();
    EXPECT_EQ(info.nr_modules, 0u);
    EXPECT_EQ(info.modlist_paddr, 0u);
}

}  // namespace
}  // namespace vmm::boot
