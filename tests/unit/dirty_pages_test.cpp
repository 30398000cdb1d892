#include "vmm/dirty_pages.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(DirtyBitmap, MarksEveryPageARangeTouchesAndTakeClears) {
    DirtyBitmap bitmap(130);
    bitmap.mark(4095, 2);             // pages 0 and 1
    bitmap.mark(64 * 4096, 1);        // page 64
    bitmap.mark(129 * 4096 + 10, 0);  // nothing
    bitmap.mark(129 * 4096, 4096);    // the last page alone
    const auto bits = bitmap.take();
    ASSERT_EQ(bits.size(), 3u);
    EXPECT_EQ(bits[0], 0b11u);
    EXPECT_EQ(bits[1], 1u);
    EXPECT_EQ(bits[2], 1u << 1);
    for (uint64_t word : bitmap.take())
        EXPECT_EQ(word, 0u) << "take() clears";
}

TEST(GuestMemoryDirty, EveryWriteAndViewMarksItsPagesOnlyWhenTracking) {
    const MemoryRegionSpec specs[] = {{0, 1 << 20}, {1ull << 32, 1 << 20}};
    auto memory = GuestMemory::create(specs, {.track_dirty = true}).value();
    EXPECT_TRUE(memory.tracks_dirty());
    ASSERT_TRUE(memory.store<uint32_t>(0x3000, 7).ok());
    ASSERT_TRUE(memory.fill(0x5ff0, 0, 0x20).ok());  // pages 5 and 6
    ASSERT_TRUE(memory.slice((1ull << 32) + 0x1000, 1).ok());
    EXPECT_FALSE(memory.store<uint32_t>(1 << 20, 1).ok()) << "outside RAM: refused, nothing marked";
    const auto low = memory.take_dirty(0);
    EXPECT_EQ(low[0], (1u << 3) | (1u << 5) | (1u << 6));
    EXPECT_EQ(memory.take_dirty(1)[0], 1u << 1);
    EXPECT_EQ(memory.take_dirty(0)[0], 0u);

    auto untracked = GuestMemory::create(specs).value();
    EXPECT_FALSE(untracked.tracks_dirty());
    ASSERT_TRUE(untracked.store<uint32_t>(0x3000, 7).ok());
    EXPECT_EQ(untracked.take_dirty(0)[0], 0u);
}

TEST(DirtyPages, NoneAllCountAndMerge) {
    const MemoryRegionSpec specs[] = {{0, 100 * 4096}, {1ull << 32, 64 * 4096}};
    auto memory = GuestMemory::create(specs).value();
    const DirtyPages all = DirtyPages::all(memory);
    EXPECT_EQ(all.count(), 164u) << "no bit past a region's last page";
    EXPECT_TRUE(all.test(0, 99));
    DirtyPages some = DirtyPages::none(memory);
    EXPECT_EQ(some.count(), 0u);
    DirtyPages other = DirtyPages::none(memory);
    other.regions[1][0] = 0b101;
    some.merge(other);
    other.regions[0][1] = 1;
    some.merge(other);
    EXPECT_EQ(some.count(), 3u);
    EXPECT_TRUE(some.test(0, 64));
    EXPECT_TRUE(some.test(1, 2));
    EXPECT_FALSE(some.test(1, 1));
}

}  // namespace
}  // namespace vmm
