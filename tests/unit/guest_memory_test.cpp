#include "base/guest_memory.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

namespace vmm {
namespace {

constexpr uint64_t MIB = 1ull << 20;

// The VmFlags line of the /proc/self/smaps entry that maps `addr`.
std::string vm_flags_of(const void* addr) {
    FILE* smaps = std::fopen("/proc/self/smaps", "r");
    char line[512];
    bool inside = false;
    std::string flags;
    while (smaps && std::fgets(line, sizeof line, smaps)) {
        unsigned long start = 0, end = 0;
        if (std::sscanf(line, "%lx-%lx ", &start, &end) == 2)  // a mapping's header line
            inside = reinterpret_cast<uintptr_t>(addr) >= start && reinterpret_cast<uintptr_t>(addr) < end;
        if (inside && std::strncmp(line, "VmFlags:", 8) == 0) {
            flags = line + 8;
            break;
        }
    }
    if (smaps)
        std::fclose(smaps);
    return flags;
}

bool has_flag(const std::string& flags, const char* flag) { return flags.find(std::string(" ") + flag) != std::string::npos; }

TEST(GuestMemoryOptions, MergeableMemoryIsMarkedForKsm) {
    const MemoryRegionSpec spec{0, 4 * MIB};
    auto plain = GuestMemory::create(std::span(&spec, 1)).value();
    auto merged = GuestMemory::create(std::span(&spec, 1), {.mergeable = true}).value();
    EXPECT_FALSE(has_flag(vm_flags_of(plain.regions()[0].host), "mg"));
    EXPECT_TRUE(has_flag(vm_flags_of(merged.regions()[0].host), "mg")) << vm_flags_of(merged.regions()[0].host);
}

TEST(GuestMemoryOptions, TransparentHugePagesAreAdvised) {
    const MemoryRegionSpec spec{0, 4 * MIB};
    auto memory = GuestMemory::create(std::span(&spec, 1), {.huge_pages = HugePages::Transparent}).value();
    EXPECT_TRUE(has_flag(vm_flags_of(memory.regions()[0].host), "hg")) << vm_flags_of(memory.regions()[0].host);
}

TEST(GuestMemoryOptions, PrefaultedMemoryIsResidentBeforeAnyAccess) {
    const MemoryRegionSpec spec{0, 4 * MIB};
    const size_t pages = spec.size / static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    std::vector<unsigned char> resident(pages);
    auto lazy = GuestMemory::create(std::span(&spec, 1)).value();
    ASSERT_EQ(::mincore(lazy.regions()[0].host, spec.size, resident.data()), 0);
    EXPECT_EQ(std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; }), 0);
    auto eager = GuestMemory::create(std::span(&spec, 1), {.prefault = true}).value();
    ASSERT_EQ(::mincore(eager.regions()[0].host, spec.size, resident.data()), 0);
    EXPECT_EQ(std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; }), ssize_t(pages));
}

TEST(GuestMemoryOptions, AGivenFileIsWhatSharedMemoryMaps) {
    const MemoryRegionSpec specs[] = {{0, 2 * MIB}, {4ull << 30, 2 * MIB}};
    UniqueFd file(::memfd_create("test-ram", MFD_CLOEXEC));
    ASSERT_EQ(::ftruncate(file.get(), 4 * MIB), 0);
    const int raw = file.get();
    auto memory = GuestMemory::create(specs, {.backing = MemoryBacking::Shared, .file = std::move(file)}).value();
    EXPECT_EQ(memory.shared_fd(), raw);
    ASSERT_TRUE(memory.store<uint64_t>((4ull << 30) + 16, 0x0123456789abcdefull).ok());
    uint64_t seen = 0;
    ASSERT_EQ(::pread(raw, &seen, sizeof seen, 2 * MIB + 16), ssize_t(sizeof seen));
    EXPECT_EQ(seen, 0x0123456789abcdefull);
}

// 2 MiB pages come from the host's pool: with enough free the memory is made of them, without
// the error says how many are missing. Which one happens depends on the host; both are checked.
TEST(GuestMemoryOptions, HugePagesComeFromThePoolOrTheErrorSaysWhy) {
    const MemoryRegionSpec spec{0, 4 * MIB};
    auto memory = GuestMemory::create(std::span(&spec, 1), {.huge_pages = HugePages::Size2M});
    if (memory.ok()) {
        EXPECT_TRUE(has_flag(vm_flags_of(memory->regions()[0].host), "ht")) << vm_flags_of(memory->regions()[0].host);
        EXPECT_TRUE(memory->store<uint32_t>(2 * MIB, 7).ok());
    } else {
        EXPECT_EQ(memory.error().kind(), ErrorKind::HostResource);
        EXPECT_NE(memory.error().message().find("hugepages=2M"), std::string::npos) << memory.error().message();
    }
    const MemoryRegionSpec small{0, MIB};
    EXPECT_FALSE(GuestMemory::create(std::span(&small, 1), {.huge_pages = HugePages::Size2M}).ok())
        << "a region that is not a 2 MiB multiple";
}

}  // namespace
}  // namespace vmm
