#include "boot/aarch64/image.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

namespace vmm::boot::aarch64 {
namespace {

constexpr uint64_t RAM = 0x80000000;

// An Image: the booting.rst header (text_offset, image_size, flags, magic) and a body.
std::vector<uint8_t> image(uint64_t text_offset, uint64_t image_size, uint64_t flags, size_t body = 4096) {
    std::vector<uint8_t> out(64 + body, 0xa5);
    auto put = [&](size_t at, auto value) { std::memcpy(out.data() + at, &value, sizeof value); };
    put(0, uint32_t{0x14000010});  // code0: b to stext
    put(4, uint32_t{0});
    put(8, text_offset);
    put(16, image_size);
    put(24, flags);
    for (size_t at = 32; at < 56; at += 8)
        put(at, uint64_t{0});
    put(56, uint32_t{0x644d5241});
    put(60, uint32_t{0});
    return out;
}

std::vector<uint8_t> gzip(const std::vector<uint8_t>& data) {
    z_stream s{};
    EXPECT_EQ(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::vector<uint8_t> out(deflateBound(&s, data.size()) + 64);
    s.next_in = const_cast<Bytef*>(data.data());
    s.avail_in = static_cast<uInt>(data.size());
    s.next_out = out.data();
    s.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
    out.resize(s.total_out);
    deflateEnd(&s);
    return out;
}

GuestMemory ram(uint64_t size) {
    const MemoryRegionSpec spec[] = {{RAM, size}};
    return std::move(GuestMemory::create(spec).value());
}

TEST(Arm64Image, HeaderGivesOffsetSizeAndPlacement) {
    const auto header = parse_image_header(image(0, 0x2000000, 0xa)).value();
    EXPECT_EQ(header.text_offset, 0u);
    EXPECT_EQ(header.image_size, 0x2000000u);
    EXPECT_TRUE(header.anywhere);
}

TEST(Arm64Image, OldKernelsWithoutImageSizeLoadAtTheLegacyOffset) {
    EXPECT_EQ(parse_image_header(image(0, 0, 0)).value().text_offset, 0x80000u);
}

TEST(Arm64Image, RefusesOtherFilesNamingTheMagic) {
    auto not_image = image(0, 0x100000, 0);
    not_image[56] = 'X';
    auto refused = parse_image_header(not_image);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("magic"), std::string::npos);
    EXPECT_FALSE(parse_image_header(std::vector<uint8_t>(63, 0)).ok());  // shorter than the header
}

TEST(Arm64Image, RefusesBigEndianKernelsAndOddOffsets) {
    EXPECT_FALSE(parse_image_header(image(0, 0x100000, 1)).ok());
    EXPECT_FALSE(parse_image_header(image(0x200000, 0x100000, 0)).ok());
    EXPECT_FALSE(parse_image_header(image(0x80001, 0x100000, 0)).ok());
}

TEST(Arm64Image, LoadsAtTheAlignedBasePlusTextOffset) {
    auto memory = ram(64 << 20);
    const auto kernel = image(0x80000, 0x400000, 0);
    const auto loaded = load_image(memory, kernel, RAM, 64 << 20).value();
    EXPECT_EQ(loaded.entry, RAM + 0x80000);
    EXPECT_EQ(loaded.end, RAM + 0x80000 + 0x400000);
    EXPECT_EQ(memory.load<uint32_t>(loaded.entry + 56).value(), 0x644d5241u);
    EXPECT_EQ(memory.load<uint8_t>(loaded.entry + 64).value(), 0xa5);
}

TEST(Arm64Image, RefusesAKernelLargerThanRam) {
    auto memory = ram(8 << 20);
    auto refused = load_image(memory, image(0, 16 << 20, 0), RAM, 8 << 20);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("more than the guest's RAM"), std::string::npos);
}

TEST(Arm64Image, GunzipGivesTheImageBack) {
    const auto kernel = image(0, 0x100000, 0, 300000);
    ASSERT_TRUE(is_gzip(gzip(kernel)));
    EXPECT_FALSE(is_gzip(kernel));
    EXPECT_EQ(gunzip(gzip(kernel), 64 << 20).value(), kernel);
}

TEST(Arm64Image, GunzipStopsAtTheRamSize) {
    const std::vector<uint8_t> zeros(8 << 20, 0);  // compresses to a few KiB
    auto refused = gunzip(gzip(zeros), 1 << 20);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("more than 1 MiB"), std::string::npos);
}

TEST(Arm64Image, GunzipRefusesATruncatedStream) {
    auto packed = gzip(image(0, 0x100000, 0, 100000));
    packed.resize(packed.size() / 2);
    auto refused = gunzip(packed, 64 << 20);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("damaged or truncated"), std::string::npos);
}

}  // namespace
}  // namespace vmm::boot::aarch64
