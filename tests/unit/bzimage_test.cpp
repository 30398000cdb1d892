#include "boot/x86_64/bzimage.h"

#include <gtest/gtest.h>

#include "image_builders.h"

namespace vmm::boot {
namespace {

using test::BzImageSpec;
using test::make_bzimage;

TEST(BzImage, ParsesAValidImage) {
    auto image = make_bzimage();
    auto bz = parse_bzimage(image);
    ASSERT_TRUE(bz.ok()) << bz.error().message();
    EXPECT_EQ(bz->payload.size(), 4096u);
    EXPECT_EQ(bz->payload[1], 7);
    EXPECT_EQ(bz->memory_needed, 0x10000u);
    EXPECT_EQ(bz->header.cmdline_size, 255u);
}

TEST(BzImage, ZeroSetupSectsMeansFour) {
    auto bz = parse_bzimage(make_bzimage({.setup_sects = 0}));
    ASSERT_TRUE(bz.ok()) << bz.error().message();
    EXPECT_EQ(bz->payload.size(), 4096u);
}

TEST(BzImage, WithoutHdrSIsNotABzImage) {
    auto image = make_bzimage();
    image[0x202] = 'X';
    EXPECT_FALSE(is_bzimage(image));
    EXPECT_FALSE(parse_bzimage(image).ok());
}

TEST(BzImage, RejectsProtocolOlderThan206) {
    auto bz = parse_bzimage(make_bzimage({.version = 0x0205}));
    ASSERT_FALSE(bz.ok());
    EXPECT_EQ(bz.error().message(), "bzImage boot protocol 2.05 is too old (need 2.06 or newer)");
}

TEST(BzImage, RejectsImageWithout64BitEntry) {
    auto bz = parse_bzimage(make_bzimage({.kernel_64 = false}));
    ASSERT_FALSE(bz.ok());
    EXPECT_NE(bz.error().message().find("XLF_KERNEL_64"), std::string::npos);
}

TEST(BzImage, RejectsTruncatedPayload) {
    auto image = make_bzimage();
    image.resize(image.size() - 16);
    auto bz = parse_bzimage(image);
    ASSERT_FALSE(bz.ok());
    EXPECT_EQ(bz.error().message(), "truncated bzImage: header declares 4096 bytes of kernel, file has 4080");
}

TEST(BzImage, RejectsImageEndingInsideSetup) {
    auto image = make_bzimage();
    image.resize(0x300);
    EXPECT_FALSE(parse_bzimage(image).ok());
}

TEST(BzImage, RejectsImageEndingInsideHeader) {
    auto image = make_bzimage();
    image.resize(0x210);
    EXPECT_FALSE(parse_bzimage(image).ok());
}

TEST(BzImage, RejectsBadBootFlag) {
    auto image = make_bzimage();
    image[0x1fe] = 0;
    EXPECT_FALSE(parse_bzimage(image).ok());
}

}  // namespace
}  // namespace vmm::boot
