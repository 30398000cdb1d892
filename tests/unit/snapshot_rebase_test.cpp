#include "vmm/snapshot_rebase.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "vmm/snapshot.h"

namespace vmm {
namespace {

std::string temp_name() {
    char name[] = "/tmp/ember-rebase-XXXXXX";
    const int fd = ::mkstemp(name);
    EXPECT_GE(fd, 0);
    ::close(fd);
    return name;
}

std::vector<uint8_t> contents(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(file)), {});
}

TEST(SnapshotRebase, ADiffCarriesItsDirtyPagesZerosIncludedOntoTheBase) {
    const MemoryRegionSpec specs[] = {{0, 1 << 20}, {1ull << 32, 1 << 20}};
    auto memory = GuestMemory::create(specs).value();
    ASSERT_TRUE(memory.fill(0, 0xaa, 1 << 20).ok());
    ASSERT_TRUE(memory.fill(1ull << 32, 0xbb, 1 << 20).ok());
    const std::string base = temp_name(), diff = temp_name();
    ASSERT_TRUE(write_memory_file(memory, base).ok());

    // Page 2 becomes zeros, page 9 of the second region 0xcc; both dirty, nothing else.
    ASSERT_TRUE(memory.fill(2 * 4096, 0, 4096).ok());
    ASSERT_TRUE(memory.fill((1ull << 32) + 9 * 4096, 0xcc, 4096).ok());
    DirtyPages dirty = DirtyPages::none(memory);
    dirty.regions[0][0] = 1u << 2;
    dirty.regions[1][0] = 1u << 9;
    ASSERT_TRUE(write_memory_file(memory, diff, &dirty).ok());
    const auto diff_bytes = contents(diff);
    ASSERT_EQ(diff_bytes.size(), 2u << 20) << "a diff is the guest's size, holes elsewhere";

    ASSERT_TRUE(rebase_memory_file(base, diff).ok());
    const auto merged = contents(base);
    ASSERT_EQ(merged.size(), 2u << 20);
    for (uint64_t at = 0; at < merged.size(); at += 4096) {
        const uint8_t expected = at == 2 * 4096 ? 0 : at < (1 << 20) ? 0xaa : at == (1 << 20) + 9 * 4096 ? 0xcc : 0xbb;
        ASSERT_EQ(merged[at], expected) << "page at " << at;
        ASSERT_EQ(merged[at + 4095], expected) << "page at " << at;
    }
    ::unlink(base.c_str());
    ::unlink(diff.c_str());
}

TEST(SnapshotRebase, RefusesFilesOfAnotherSizeOrMissing) {
    const std::string base = temp_name(), diff = temp_name();
    ASSERT_EQ(::truncate(base.c_str(), 8192), 0);
    ASSERT_EQ(::truncate(diff.c_str(), 4096), 0);
    auto refused = rebase_memory_file(base, diff);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("is 4096 bytes and base memory file"), std::string::npos)
        << refused.error().message();
    auto missing = rebase_memory_file(base, "/nonexistent/diff.mem");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message().find("diff memory file '/nonexistent/diff.mem'"), std::string::npos);
    ::unlink(base.c_str());
    ::unlink(diff.c_str());
}

}  // namespace
}  // namespace vmm
