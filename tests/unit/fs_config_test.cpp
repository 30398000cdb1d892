#include "vmm/fs_config.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(FsConfig, ParsesASocketBackend) {
    auto fs = parse_fs("tag=share,socket=/run/vfs.sock,id=docs");
    ASSERT_TRUE(fs.ok()) << fs.error().message();
    EXPECT_EQ(fs->tag, "share");
    EXPECT_EQ(fs->socket, "/run/vfs.sock");
    EXPECT_EQ(fs->id, "docs");
    EXPECT_TRUE(fs->dir.empty());
}

TEST(FsConfig, ParsesAReadOnlyDirectory) {
    auto fs = parse_fs("tag=host,dir=/srv/tests,readonly=on");
    ASSERT_TRUE(fs.ok()) << fs.error().message();
    EXPECT_EQ(fs->dir, "/srv/tests");
    EXPECT_TRUE(fs->readonly);
}

TEST(FsConfig, RefusesWhatItCannotServe) {
    for (const char* bad : {"socket=/s", "tag=,dir=/d", "tag=t", "tag=t,socket=/s,dir=/d", "tag=t,socket=/s,readonly=on",
                            "tag=t,dir=/d,readonly=yes", "tag=t,dir=/d,cache=always",
                            "tag=0123456789012345678901234567890123456,dir=/d"})
        EXPECT_FALSE(parse_fs(bad).ok()) << bad;
    EXPECT_TRUE(parse_fs("tag=012345678901234567890123456789012345,dir=/d").ok()) << "36 bytes fit";
}

TEST(FsConfig, TagsAreUnique) {
    std::vector<FsConfig> two = {parse_fs("tag=a,dir=/x").value(), parse_fs("tag=a,dir=/y").value()};
    EXPECT_FALSE(validate_filesystems(two).ok());
    two[1].tag = "b";
    EXPECT_TRUE(validate_filesystems(two).ok());
}

}  // namespace
}  // namespace vmm
