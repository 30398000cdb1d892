#include "boot/initramfs_dir.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace vmm::boot {
namespace {

namespace fs = std::filesystem;

struct Entry {
    std::string name;
    uint32_t mode, uid, nlink, rdev_major, rdev_minor;
    std::string data;
};

uint32_t hex(const std::vector<uint8_t>& a, size_t at) {
    return static_cast<uint32_t>(std::stoul(std::string(a.begin() + at, a.begin() + at + 8), nullptr, 16));
}

// A newc reader, for the test: every field where buffer-format.rst puts it.
std::vector<Entry> unpack(const std::vector<uint8_t>& a) {
    std::vector<Entry> entries;
    size_t at = 0;
    while (at + 110 <= a.size()) {
        EXPECT_EQ(std::string(a.begin() + at, a.begin() + at + 6), "070701");
        auto field = [&](int i) { return hex(a, at + 6 + 8 * i); };
        Entry e{{}, field(1), field(2), field(4), field(9), field(10), {}};
        const uint32_t size = field(6), name_size = field(11);
        e.name.assign(a.begin() + at + 110, a.begin() + at + 110 + name_size - 1);
        EXPECT_EQ(a[at + 110 + name_size - 1], 0);
        at = (at + 110 + name_size + 3) & ~size_t(3);
        e.data.assign(a.begin() + at, a.begin() + at + size);
        at = (at + size + 3) & ~size_t(3);
        entries.push_back(e);
        if (e.name == "TRAILER!!!")
            break;
    }
    EXPECT_EQ(at, a.size());
    return entries;
}

struct InitramfsDir : ::testing::Test {
    void SetUp() override {
        char name[] = "/tmp/ember-initramfs-XXXXXX";
        root = ::mkdtemp(name);
        fs::create_directories(root / "bin");
        std::ofstream(root / "init") << "#!/bin/sh\necho hi\n";
        std::ofstream(root / "bin" / "odd") << "12345";
        fs::permissions(root / "init", fs::perms::owner_all);
        fs::create_symlink("../init", root / "bin" / "sh");
        ::mkfifo((root / "fifo").c_str(), 0600);
    }
    void TearDown() override { fs::remove_all(root); }
    fs::path root;
};

TEST_F(InitramfsDir, PacksTheTreeInOrderOwnedByRoot) {
    auto archive = pack_initramfs_dir(root, 1 << 20);
    ASSERT_TRUE(archive.ok()) << archive.error().message();
    const auto entries = unpack(*archive);
    std::vector<std::string> names;
    for (const auto& e : entries)
        names.push_back(e.name);
    EXPECT_EQ(names, (std::vector<std::string>{".", "bin", "bin/odd", "bin/sh", "fifo", "init", "TRAILER!!!"}));
    EXPECT_TRUE(S_ISDIR(entries[0].mode));
    EXPECT_EQ(entries[2].data, "12345");
    EXPECT_TRUE(S_ISLNK(entries[3].mode));
    EXPECT_EQ(entries[3].data, "../init");
    EXPECT_TRUE(S_ISFIFO(entries[4].mode));
    EXPECT_EQ(entries[5].data, "#!/bin/sh\necho hi\n");
    EXPECT_EQ(entries[5].mode & 0777, 0700u);
    for (const auto& e : entries)
        EXPECT_EQ(e.uid, 0u) << e.name;
}

TEST_F(InitramfsDir, TheSameTreeGivesTheSameBytes) {
    EXPECT_EQ(pack_initramfs_dir(root, 1 << 20).value(), pack_initramfs_dir(root, 1 << 20).value());
}

TEST_F(InitramfsDir, ArchiveBeyondTheLimitIsAnError) {
    auto archive = pack_initramfs_dir(root, 600);
    ASSERT_FALSE(archive.ok());
    EXPECT_NE(archive.error().message().find("beyond the 600 bytes"), std::string::npos);
}

TEST_F(InitramfsDir, SocketIsRefusedByName) {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = (root / "sock").string();
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    auto archive = pack_initramfs_dir(root, 1 << 20);
    ::close(s);
    ASSERT_FALSE(archive.ok());
    EXPECT_NE(archive.error().message().find("sock': a socket cannot be packed"), std::string::npos);
}

TEST(InitramfsDirErrors, MissingOrNotADirectory) {
    auto missing = pack_initramfs_dir("/nonexistent/tree", 1 << 20);
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.error().message().find("initramfs directory '/nonexistent/tree'"), std::string::npos);
    auto file = pack_initramfs_dir("/etc/hostname", 1 << 20);
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message().find("not a directory"), std::string::npos);
}

}  // namespace
}  // namespace vmm::boot
