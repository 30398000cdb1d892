// GuestMemory's options as the host kernel carries them out (madvise flags in smaps, resident
// pages, hugetlb from the pool): x86_64 unit tests only, not the portable ones, since
// qemu-user (the arm64 check) emulates none of it.
#include "base/guest_memory.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

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

// 2 MiB pages come from the host's pool, reserved at creation: a guest larger than any pool
// is refused at once with the count it lacks. (Memory that does get huge pages is the
// memory_backend_huge_* integration tests', which grow the pool for themselves under a CTest
// lock; a unit test taking pages from it, in parallel with them, made those fail now and then.)
TEST(GuestMemoryOptions, HugePagesBeyondThePoolAreRefusedSayingHowManyAreMissing) {
    const MemoryRegionSpec spec{0, 1ull << 40};  // 1 TiB: 524288 pages
    auto memory = GuestMemory::create(std::span(&spec, 1), {.huge_pages = HugePages::Size2M});
    ASSERT_FALSE(memory.ok());
    EXPECT_EQ(memory.error().kind(), ErrorKind::HostResource);
    const std::string& message = memory.error().message();
    EXPECT_TRUE(message.find("the guest needs 524288 free 2 MiB huge pages") != std::string::npos ||
                message.find("the host kernel has no 2 MiB huge pages") != std::string::npos)
        << message;
    const MemoryRegionSpec small{0, MIB};
    EXPECT_FALSE(GuestMemory::create(std::span(&small, 1), {.huge_pages = HugePages::Size2M}).ok())
        << "a region that is not a 2 MiB multiple";
}

}  // namespace
}  // namespace vmm
