#include "base/guest_memory.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>

namespace vmm {
namespace {

GuestMemory two_regions() {
    const MemoryRegionSpec specs[] = {{0, 0x10000}, {0x100000, 0x10000}};
    return std::move(GuestMemory::create(specs).value());
}

TEST(GuestMemory, StoreThenLoadRoundTrips) {
    auto mem = two_regions();
    ASSERT_TRUE(mem.store<uint64_t>(0x100008, 0x1122334455667788ull).ok());
    EXPECT_EQ(mem.load<uint64_t>(0x100008).value(), 0x1122334455667788ull);
}

// Found by the blk_queue fuzzer: an empty span (null data()) reached memcpy, which UBSan
// rejects even for 0 bytes.
TEST(GuestMemory, EmptyReadsAndWritesSucceedWithoutTouchingMemory) {
    auto mem = two_regions();
    EXPECT_TRUE(mem.write(0x100, std::span<const uint8_t>{}).ok());
    EXPECT_TRUE(mem.read(0x100, std::span<uint8_t>{}).ok());
    EXPECT_FALSE(mem.write(0x20000, std::span<const uint8_t>{}).ok());  // still outside memory
}

TEST(GuestMemory, NewMemoryReadsAsZero) {
    auto mem = two_regions();
    EXPECT_EQ(mem.load<uint32_t>(0xfffc).value(), 0u);
}

TEST(GuestMemory, AccessInTheGapBetweenRegionsFails) {
    auto mem = two_regions();
    EXPECT_FALSE(mem.load<uint8_t>(0x20000).ok());
}

TEST(GuestMemory, AccessStraddlingRegionEndFails) {
    auto mem = two_regions();
    EXPECT_FALSE(mem.load<uint32_t>(0xfffe).ok());
    EXPECT_FALSE(mem.store<uint32_t>(0x10fffe, 1).ok());
}

TEST(GuestMemory, HugeLengthDoesNotOverflowIntoSuccess) {
    auto mem = two_regions();
    EXPECT_FALSE(mem.slice(0x100000, UINT64_MAX).ok());
    EXPECT_FALSE(mem.slice(UINT64_MAX, 2).ok());
    EXPECT_FALSE(mem.fill(0x10, 0, UINT64_MAX - 8).ok());
}

TEST(GuestMemory, SliceGivesAWritableView) {
    auto mem = two_regions();
    auto view = mem.slice(0x100, 4).value();
    view[0] = 0xab;
    EXPECT_EQ(mem.load<uint8_t>(0x100).value(), 0xab);
}

TEST(GuestMemory, RejectsUnalignedAndOverlappingRegions) {
    const MemoryRegionSpec unaligned[] = {{0x100, 0x1000}};
    EXPECT_FALSE(GuestMemory::create(unaligned).ok());
    const MemoryRegionSpec overlapping[] = {{0, 0x2000}, {0x1000, 0x1000}};
    EXPECT_FALSE(GuestMemory::create(overlapping).ok());
    const MemoryRegionSpec empty[] = {{0, 0}};
    EXPECT_FALSE(GuestMemory::create(empty).ok());
}

TEST(GuestMemory, TotalSizeSumsRegions) { EXPECT_EQ(two_regions().total_size(), 0x20000u); }

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

TEST(GuestMemoryShared, RegionsAreOneMemfdAtConsecutiveOffsets) {
    const MemoryRegionSpec specs[] = {{0, 1 << 20}, {4ull << 30, 2 << 20}};
    auto memory = GuestMemory::create(specs, {.backing = MemoryBacking::Shared}).value();
    ASSERT_GE(memory.shared_fd(), 0);
    EXPECT_EQ(memory.regions()[0].fd_offset, 0u);
    EXPECT_EQ(memory.regions()[1].fd_offset, 1u << 20);
    ASSERT_TRUE(memory.store<uint32_t>((4ull << 30) + 8, 0xfeedf00d).ok());
    uint32_t seen = 0;
    ASSERT_EQ(::pread(memory.shared_fd(), &seen, sizeof seen, (1 << 20) + 8), ssize_t(sizeof seen));
    EXPECT_EQ(seen, 0xfeedf00du) << "another process mapping the fd sees the guest's writes";
}

TEST(GuestMemoryShared, PrivateMemoryHasNoFd) {
    const MemoryRegionSpec spec{0, 1 << 20};
    EXPECT_EQ(GuestMemory::create(std::span(&spec, 1)).value().shared_fd(), -1);
}

}  // namespace
}  // namespace vmm
