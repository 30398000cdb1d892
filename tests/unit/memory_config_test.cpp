#include "vmm/memory_config.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(MemoryConfig, ASizeAloneKeepsTheDefaultBackend) {
    uint64_t size = 0;
    auto memory = parse_memory("512M", size).value();
    EXPECT_EQ(size, 512ull << 20);
    EXPECT_EQ(memory.backend, MemoryConfig::Backend::Default);
    EXPECT_EQ(memory.huge_pages, HugePages::None);
    EXPECT_FALSE(memory.mergeable);
    EXPECT_FALSE(memory.prefault);
}

TEST(MemoryConfig, ParsesEveryKey) {
    uint64_t size = 256ull << 20;
    auto memory = parse_memory("size=1G,backend=file:/dev/shm/vm0,hugepages=2M,prefault=on", size).value();
    EXPECT_EQ(size, 1ull << 30);
    EXPECT_EQ(memory.backend, MemoryConfig::Backend::File);
    EXPECT_EQ(memory.path, "/dev/shm/vm0");
    EXPECT_EQ(memory.huge_pages, HugePages::Size2M);
    EXPECT_TRUE(memory.prefault);
    memory = parse_memory("backend=anon,mergeable=on,hugepages=transparent", size).value();
    EXPECT_EQ(size, 1ull << 30) << "a size not given stays";
    EXPECT_EQ(memory.backend, MemoryConfig::Backend::Anon);
    EXPECT_TRUE(memory.mergeable);
    EXPECT_EQ(memory.huge_pages, HugePages::Transparent);
    EXPECT_EQ(parse_memory("backend=memfd", size)->backend, MemoryConfig::Backend::Memfd);
}

TEST(MemoryConfig, RefusesBadValuesNamingThem) {
    uint64_t size = 0;
    for (const char* text : {"backend=file:", "backend=disk", "hugepages=1G", "mergeable=yes", "prefault=",
                             "size=12X", "colour=blue", "size=1G,,prefault=on"}) {
        auto memory = parse_memory(text, size);
        ASSERT_FALSE(memory.ok()) << text;
        EXPECT_NE(memory.error().message().find("--memory"), std::string::npos) << memory.error().message();
    }
    EXPECT_NE(parse_memory("hugepages=1G", size).error().message().find("bad 'hugepages=1G'"), std::string::npos);
}

TEST(MemoryConfig, SharedMeansAFileOtherProcessesCanMap) {
    MemoryConfig memory;
    EXPECT_FALSE(memory.shared(false));
    EXPECT_TRUE(memory.shared(true)) << "virtio-fs makes the default a memfd";
    memory.backend = MemoryConfig::Backend::Anon;
    EXPECT_FALSE(memory.shared(true));
    memory.backend = MemoryConfig::Backend::File;
    EXPECT_TRUE(memory.shared(false));
}

TEST(MemoryConfig, ValidatesWhatTheHostCanGive) {
    const uint64_t size = 256ull << 20;
    MemoryConfig memory;
    EXPECT_TRUE(validate_memory(memory, size, false).ok());
    memory.huge_pages = HugePages::Size2M;
    EXPECT_TRUE(validate_memory(memory, size, false).ok());
    EXPECT_FALSE(validate_memory(memory, size + 4096, false).ok()) << "not a 2 MiB multiple";
    memory = {};
    memory.backend = MemoryConfig::Backend::Anon;
    EXPECT_FALSE(validate_memory(memory, size, true).ok()) << "virtio-fs cannot share anonymous memory";
    memory = {};
    memory.mergeable = true;
    EXPECT_TRUE(validate_memory(memory, size, false).ok());
    EXPECT_FALSE(validate_memory(memory, size, true).ok()) << "KSM does not merge the memfd virtio-fs needs";
    memory.huge_pages = HugePages::Size2M;
    EXPECT_FALSE(validate_memory(memory, size, false).ok());
    memory = {};
    memory.backend = MemoryConfig::Backend::File;
    memory.path = "/dev/shm/x";
    memory.huge_pages = HugePages::Transparent;
    EXPECT_FALSE(validate_memory(memory, size, false).ok());
}

}  // namespace
}  // namespace vmm
