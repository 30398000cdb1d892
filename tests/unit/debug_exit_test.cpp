#include "devices/legacy/debug_exit.h"

#include <gtest/gtest.h>

#include <array>

namespace vmm {
namespace {

TEST(DebugExit, ExitCodeIsValueShiftedOrOne) {
    EXPECT_EQ(DebugExit::exit_code_for(0), 1);
    EXPECT_EQ(DebugExit::exit_code_for(42), 85);
    EXPECT_EQ(DebugExit::exit_code_for(0x7f), 255);
    EXPECT_EQ(DebugExit::exit_code_for(0x80), 1);  // truncated to 8 bits like a process status
}

TEST(DebugExit, WriteOfLittleEndianValueReportsItsCode) {
    int code = -1;
    DebugExit dev([&](int c) { code = c; });
    const std::array<uint8_t, 4> value{21, 0, 0, 0};
    dev.write(0, value);
    EXPECT_EQ(code, 43);
}

TEST(DebugExit, ReadsDoNotExit) {
    int calls = 0;
    DebugExit dev([&](int) { ++calls; });
    std::array<uint8_t, 4> data{};
    dev.read(0, data);
    EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace vmm
