#include "boot/initrd.h"

#include <gtest/gtest.h>

namespace vmm::boot {
namespace {

TEST(Initrd, PlacedPageAlignedAtTheTop) {
    auto p = place_initrd(0x1800, 0x200000, 0x1000000, UINT64_MAX).value();
    EXPECT_EQ(p.addr, 0x1000000 - 0x2000);
    EXPECT_EQ(p.size, 0x1800u);
}

TEST(Initrd, HonoursAddrMax) {
    auto p = place_initrd(0x1000, 0x200000, 0x10000000, 0x7fffff).value();
    EXPECT_EQ(p.addr, 0x7ff000u);
}

TEST(Initrd, MustNotOverlapTheKernel) {
    auto p = place_initrd(0x1000000, 0x200000, 0x1000000, UINT64_MAX);
    ASSERT_FALSE(p.ok());
    EXPECT_NE(p.error().message().find("does not fit"), std::string::npos);
}

TEST(Initrd, LargerThanMemoryDoesNotUnderflow) {
    EXPECT_FALSE(place_initrd(UINT64_MAX, 0, 0x1000000, UINT64_MAX).ok());
}

}  // namespace
}  // namespace vmm::boot
