#include "vmm/resource_allocator.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

constexpr uint64_t BASE = 0xd0000000;

TEST(ResourceAllocator, WindowsAreHandedOutLowestFirstAndAligned) {
    ResourceAllocator a(BASE, 0x10000, {});
    EXPECT_EQ(a.allocate_mmio(0x1000, 0x1000, "a").value(), BASE);
    EXPECT_EQ(a.allocate_mmio(0x100, 0x100, "b").value(), BASE + 0x1000);
    EXPECT_EQ(a.allocate_mmio(0x1000, 0x1000, "c").value(), BASE + 0x2000);
}

TEST(ResourceAllocator, AReleasedWindowIsReusedFirst) {
    ResourceAllocator a(BASE, 0x10000, {});
    ASSERT_TRUE(a.allocate_mmio(0x1000, 0x1000, "a").ok());
    ASSERT_TRUE(a.allocate_mmio(0x1000, 0x1000, "b").ok());
    a.release_mmio(BASE);
    EXPECT_EQ(a.allocate_mmio(0x1000, 0x1000, "c").value(), BASE);
}

TEST(ResourceAllocator, ExhaustedMmioRangeIsAHostResourceError) {
    ResourceAllocator a(BASE, 0x2000, {});
    ASSERT_TRUE(a.allocate_mmio(0x1000, 0x1000, "a").ok());
    ASSERT_TRUE(a.allocate_mmio(0x1000, 0x1000, "b").ok());
    auto third = a.allocate_mmio(0x1000, 0x1000, "disk0");
    ASSERT_FALSE(third.ok());
    EXPECT_EQ(third.error().kind(), ErrorKind::HostResource);
    EXPECT_NE(third.error().message().find("disk0: no free MMIO window"), std::string::npos);
}

TEST(ResourceAllocator, AllocationSkipsReservedWindows) {
    ResourceAllocator a(BASE, 0x4000, {});
    ASSERT_TRUE(a.reserve_mmio(BASE, 0x1800, "fixed").ok());
    EXPECT_EQ(a.allocate_mmio(0x1000, 0x1000, "a").value(), BASE + 0x2000);
}

TEST(ResourceAllocator, OverlappingReservationIsRefusedNamingTheOwner) {
    ResourceAllocator a(BASE, 0x4000, {});
    ASSERT_TRUE(a.reserve_mmio(BASE + 0x1000, 0x1000, "first").ok());
    for (uint64_t start : {BASE + 0x800, BASE + 0x1000, BASE + 0x1fff}) {
        auto overlap = a.reserve_mmio(start, 0x1000, "second");
        ASSERT_FALSE(overlap.ok()) << std::hex << start;
        EXPECT_NE(overlap.error().message().find("overlaps first's"), std::string::npos);
    }
    EXPECT_TRUE(a.reserve_mmio(BASE, 0x1000, "below").ok());
    EXPECT_TRUE(a.reserve_mmio(BASE + 0x2000, 0x1000, "above").ok());
}

TEST(ResourceAllocator, ReservationOutsideTheRangeIsRefused) {
    ResourceAllocator a(BASE, 0x2000, {});
    EXPECT_FALSE(a.reserve_mmio(BASE - 0x1000, 0x1000, "x").ok());
    EXPECT_FALSE(a.reserve_mmio(BASE + 0x1000, 0x2000, "x").ok());
    EXPECT_FALSE(a.reserve_mmio(BASE, 0, "x").ok());
    EXPECT_FALSE(a.reserve_mmio(UINT64_MAX, 2, "x").ok());
}

TEST(ResourceAllocator, GsisComeInListOrderUntilExhausted) {
    ResourceAllocator a(BASE, 0x1000, {5, 6, 7});
    EXPECT_EQ(a.allocate_gsi("a").value(), 5u);
    EXPECT_EQ(a.allocate_gsi("b").value(), 6u);
    EXPECT_EQ(a.allocate_gsi("c").value(), 7u);
    auto none = a.allocate_gsi("d");
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().kind(), ErrorKind::HostResource);
    a.release_gsi(6);
    EXPECT_EQ(a.allocate_gsi("e").value(), 6u);
}

TEST(ResourceAllocator, ReleasingAnUnknownGsiChangesNothing) {
    ResourceAllocator a(BASE, 0x1000, {5});
    a.release_gsi(99);
    EXPECT_EQ(a.free_gsis(), 1u);
}

TEST(ResourceAllocator, BadAlignmentIsAnInternalError) {
    ResourceAllocator a(BASE, 0x1000, {});
    EXPECT_EQ(a.allocate_mmio(0x100, 3, "x").error().kind(), ErrorKind::Internal);
    EXPECT_EQ(a.allocate_mmio(0, 0x100, "x").error().kind(), ErrorKind::Internal);
}

}  // namespace
}  // namespace vmm
