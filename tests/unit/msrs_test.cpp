#include "arch/x86_64/msrs.h"

#include <gtest/gtest.h>

namespace vmm::arch::x86_64 {
namespace {

TEST(Msrs, OnlyMsrsKvmListsAreSet) {
    auto msrs = boot_msrs({0x10, 0x175}, false);
    ASSERT_EQ(msrs.size(), 2u);
    EXPECT_EQ(msrs[0].index, 0x175u);
    EXPECT_EQ(msrs[1].index, 0x10u);
}

// KVM does not list MSR_MTRRdefType, yet emulates it for a vCPU with CPUID MTRR.
TEST(Msrs, MtrrsEnabledWithWriteBackDefaultWhenTheCpuHasThem) {
    auto msrs = boot_msrs({}, true);
    ASSERT_EQ(msrs.size(), 1u);
    EXPECT_EQ(msrs[0].index, 0x2ffu);
    EXPECT_EQ(msrs[0].data, (1u << 11) | 6u);  // MTRRs on, write-back default
    EXPECT_TRUE(boot_msrs({0x2ff}, false).empty());
}

TEST(Msrs, FastStringsEnabled) {
    auto msrs = boot_msrs({0x1a0}, false);
    ASSERT_EQ(msrs.size(), 1u);
    EXPECT_EQ(msrs[0].data, 1u);
}

}  // namespace
}  // namespace vmm::arch::x86_64
