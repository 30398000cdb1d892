#include "boot/cmdline.h"

#include <gtest/gtest.h>

namespace vmm::boot {
namespace {

TEST(KernelCmdline, AppendSeparatesWithOneSpace) {
    auto cmdline = KernelCmdline::create("console=ttyS0").value();
    ASSERT_TRUE(cmdline.append("virtio_mmio.device=4K@0xd0000000:5").ok());
    EXPECT_EQ(cmdline.str(), "console=ttyS0 virtio_mmio.device=4K@0xd0000000:5");
}

TEST(KernelCmdline, EmptyStartHasNoLeadingSpace) {
    auto cmdline = KernelCmdline::create("").value();
    ASSERT_TRUE(cmdline.append("quiet").ok());
    EXPECT_EQ(cmdline.str(), "quiet");
}

TEST(KernelCmdline, RejectsNulBytes) {
    EXPECT_FALSE(KernelCmdline::create(std::string("a\0b", 3)).ok());
}

TEST(KernelCmdline, CapacityExcludesTerminatingNul) {
    auto cmdline = KernelCmdline::create(std::string(10, 'x')).value();
    EXPECT_TRUE(cmdline.check_fits(10).ok());
    auto error = cmdline.check_fits(9);
    ASSERT_FALSE(error.ok());
    EXPECT_EQ(error.error().message(), "kernel command line is 10 bytes; the kernel accepts at most 9");
}

}  // namespace
}  // namespace vmm::boot
