#include "devices/legacy/i8042.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(I8042, ResetCommandCallsResetHandler) {
    int resets = 0;
    I8042 kbd([&] { ++resets; });
    kbd.write(I8042::COMMAND, 0xfe);
    EXPECT_EQ(resets, 1);
}

TEST(I8042, OtherCommandsDoNotReset) {
    int resets = 0;
    I8042 kbd([&] { ++resets; });
    kbd.write(I8042::COMMAND, 0xa7);
    kbd.write(I8042::DATA, 0xfe);
    EXPECT_EQ(resets, 0);
}

TEST(I8042, ConfigurationByteRoundTripsThroughCommands) {
    I8042 kbd([] {});
    kbd.write(I8042::COMMAND, 0x60);
    kbd.write(I8042::DATA, 0x45);
    kbd.write(I8042::COMMAND, 0x20);
    EXPECT_EQ(kbd.read(I8042::COMMAND) & 0x01, 0x01);  // output buffer full
    EXPECT_EQ(kbd.read(I8042::DATA), 0x45);
    EXPECT_EQ(kbd.read(I8042::COMMAND) & 0x01, 0x00);
}

TEST(I8042, SelfTestAnswers0x55) {
    I8042 kbd([] {});
    kbd.write(I8042::COMMAND, 0xaa);
    EXPECT_EQ(kbd.read(I8042::DATA), 0x55);
}

TEST(I8042, StateRoundTrips) {
    I8042 kbd([] {});
    kbd.write(I8042::COMMAND, 0x60);
    kbd.write(I8042::DATA, 0x45);
    kbd.write(I8042::COMMAND, 0x20);  // the configuration byte waits at the data port
    I8042 other([] {});
    other.restore(kbd.save());
    EXPECT_EQ(other.save(), kbd.save());
    EXPECT_EQ(other.read(I8042::DATA), 0x45);
}

}  // namespace
}  // namespace vmm
