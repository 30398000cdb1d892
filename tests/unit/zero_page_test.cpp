#include "boot/x86_64/zero_page.h"

#include <gtest/gtest.h>

namespace vmm::boot {
namespace {

TEST(ZeroPage, VmlinuxGetsASynthesizedHeader) {
    auto params = build_zero_page({{}, 0x20000, 2047, {}, {}}).value();
    EXPECT_EQ(params.hdr.boot_flag, 0xaa55);
    EXPECT_EQ(params.hdr.header, 0x53726448u);
    EXPECT_EQ(params.hdr.cmdline_size, 2047u);
    EXPECT_EQ(params.hdr.type_of_loader, 0xff);
}

TEST(ZeroPage, InitrdAbove4GSplitsIntoExtFields) {
    auto params = build_zero_page({{}, 0x20000, 2047, {0x1'2345'6000, 0x1000}, {}}).value();
    EXPECT_EQ(params.hdr.ramdisk_image, 0x23456000u);
    EXPECT_EQ(params.ext_ramdisk_image, 1u);
    EXPECT_EQ(params.hdr.ramdisk_size, 0x1000u);
}

TEST(ZeroPage, TooManyE820EntriesIsAnError) {
    std::vector<MemoryMapEntry> e820(E820_MAX_ENTRIES_ZEROPAGE + 1, {0, 0x1000, MemoryType::Ram});
    EXPECT_FALSE(build_zero_page({{}, 0x20000, 2047, {}, e820}).ok());
}

TEST(ZeroPage, HeaderBytesAreCopiedFromTheImage) {
    std::vector<uint8_t> header(sizeof(setup_header), 0);
    header[offsetof(setup_header, version)] = 0x0f;
    header[offsetof(setup_header, version) + 1] = 0x02;
    auto params = build_zero_page({header, 0x20000, 255, {}, {}}).value();
    EXPECT_EQ(params.hdr.version, 0x020f);
}

}  // namespace
}  // namespace vmm::boot
