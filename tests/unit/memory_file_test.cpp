#include "base/memory_file.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace vmm {
namespace {

constexpr uint64_t SIZE = 4ull << 20;

class MemoryFileTest : public ::testing::Test {
protected:
    void SetUp() override {
        char name[] = "/tmp/ember-memory-file-XXXXXX";
        ASSERT_NE(::mkdtemp(name), nullptr);
        dir = name;
    }
    void TearDown() override {
        ::unlink((dir + "/ram").c_str());
        ::rmdir(dir.c_str());
    }
    int entries() const {
        int n = 0;
        DIR* d = ::opendir(dir.c_str());
        while (dirent* e = ::readdir(d))
            n += std::string(e->d_name) != "." && std::string(e->d_name) != "..";
        ::closedir(d);
        return n;
    }
    off_t size_of(const std::string& path) const {
        struct stat st {};
        return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
    }
    std::string dir;
};

TEST_F(MemoryFileTest, ANewFileGetsItsNameOnlyWhenPublished) {
    const std::string path = dir + "/ram";
    auto file = MemoryFile::open(path, SIZE, false).value();
    EXPECT_EQ(entries(), 0) << "a build that fails later leaves nothing";
    auto fd = file.share().value();
    const char word[] = "guest";
    ASSERT_EQ(::pwrite(fd.get(), word, sizeof word, 4096), ssize_t(sizeof word));
    ASSERT_TRUE(file.publish().ok());
    EXPECT_EQ(size_of(path), off_t(SIZE));
    char seen[sizeof word] = {};
    UniqueFd named(::open(path.c_str(), O_RDONLY));
    ASSERT_EQ(::pread(named.get(), seen, sizeof seen, 4096), ssize_t(sizeof seen));
    EXPECT_STREQ(seen, word) << "the named file is the one guest memory maps";
}

TEST_F(MemoryFileTest, ANewFileNotPublishedLeavesNothing) {
    { auto file = MemoryFile::open(dir + "/ram", SIZE, false).value(); }
    EXPECT_EQ(entries(), 0);
}

TEST_F(MemoryFileTest, ADirectoryGivesAnUnnamedFile) {
    auto file = MemoryFile::open(dir, SIZE, false).value();
    ASSERT_TRUE(file.publish().ok());
    EXPECT_EQ(entries(), 0);
    struct stat st {};
    ASSERT_EQ(::fstat(file.share().value().get(), &st), 0);
    EXPECT_EQ(st.st_size, off_t(SIZE));
}

TEST_F(MemoryFileTest, AnExistingFileMustBeEmptyOrTheGuestsSize) {
    const std::string path = dir + "/ram";
    UniqueFd created(::open(path.c_str(), O_CREAT | O_WRONLY, 0600));
    ASSERT_TRUE(created.valid());
    { EXPECT_TRUE(MemoryFile::open(path, SIZE, false).ok()) << "empty: sized"; }
    EXPECT_EQ(size_of(path), off_t(SIZE));
    { EXPECT_TRUE(MemoryFile::open(path, SIZE, false).ok()) << "the guest's size: used again"; }
    auto other = MemoryFile::open(path, 2 * SIZE, false);
    ASSERT_FALSE(other.ok());
    EXPECT_NE(other.error().message().find("is 4194304 bytes"), std::string::npos) << other.error().message();
    EXPECT_EQ(size_of(path), off_t(SIZE)) << "a refused file is left as it was";
}

TEST_F(MemoryFileTest, ASecondUserOfTheSameFileIsRefused) {
    const std::string path = dir + "/ram";
    auto first = MemoryFile::open(path, SIZE, false).value();
    ASSERT_TRUE(first.publish().ok());
    auto second = MemoryFile::open(path, SIZE, false);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().kind(), ErrorKind::Busy);
}

TEST_F(MemoryFileTest, HugePagesNeedHugetlbfs) {
    auto file = MemoryFile::open(dir + "/ram", SIZE, true);
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message().find("hugetlbfs"), std::string::npos) << file.error().message();
    EXPECT_EQ(entries(), 0);
}

TEST_F(MemoryFileTest, NotARegularFileIsRefused) {
    auto file = MemoryFile::open("/dev/null", SIZE, false);
    ASSERT_FALSE(file.ok());
    EXPECT_NE(file.error().message().find("not a regular file"), std::string::npos) << file.error().message();
}

}  // namespace
}  // namespace vmm
