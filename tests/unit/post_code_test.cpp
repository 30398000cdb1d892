#include "devices/legacy/post_code.h"

#include <gtest/gtest.h>

#include <array>

namespace vmm {
namespace {

TEST(PostCode, WritesAreDroppedAndReadsLeaveTheZeroFill) {
    PostCode port;
    const std::array<uint8_t, 1> code{0x42};
    port.write(0, code);
    std::array<uint8_t, 1> value{0};  // the bus zero-fills before dispatch
    port.read(0, value);
    EXPECT_EQ(value[0], 0);
    EXPECT_EQ(port.name(), "post-code");
}

}  // namespace
}  // namespace vmm
