#include "vmm/host_console.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vmm {
namespace {

struct TempPath {
    std::string path = "/tmp/ember-host-console-" + std::to_string(::getpid());
    ~TempPath() { ::unlink(path.c_str()); }
};

off_t size_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(HostConsole, FileOutputStopsAtItsCap) {
    TempPath file;
    HostConsole console({ConsoleConfig::Mode::File, file.path}, "serial", 1000);
    ASSERT_TRUE(console.open_output().ok());
    const std::vector<uint8_t> chunk(300, 'x');
    for (int i = 0; i < 10; ++i)
        console.write(chunk);
    EXPECT_EQ(size_of(file.path), 1000);
    console.write(std::vector<uint8_t>(1, 'y'));
    EXPECT_EQ(size_of(file.path), 1000);
}

TEST(HostConsole, FileOutputBelowTheCapIsWhole) {
    TempPath file;
    HostConsole console({ConsoleConfig::Mode::File, file.path}, "serial", 1000);
    ASSERT_TRUE(console.open_output().ok());
    console.write(std::vector<uint8_t>(999, 'x'));
    console.write(std::vector<uint8_t>(1, 'x'));
    EXPECT_EQ(size_of(file.path), 1000);
}

TEST(HostConsole, OutputBeforeOpenIsDropped) {
    TempPath file;
    HostConsole console({ConsoleConfig::Mode::File, file.path}, "serial");
    console.write(std::vector<uint8_t>(10, 'x'));
    EXPECT_EQ(size_of(file.path), -1);
    ASSERT_TRUE(console.open_output().ok());
    EXPECT_EQ(size_of(file.path), 0);
}

}  // namespace
}  // namespace vmm
