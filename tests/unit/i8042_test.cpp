#include "devices/legacy/i8042.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmm {
namespace {

struct FakeKeyboardIrq : IrqLine {
    void set_level(bool asserted) override { transitions.push_back(asserted); }
    bool level() const { return !transitions.empty() && transitions.back(); }
    int rising_edges() const {
        int n = 0;
        for (bool t : transitions)
            n += t;
        return n;
    }
    std::vector<bool> transitions;
};

struct I8042Test : ::testing::Test {
    void command(uint8_t c) { kbd.write(I8042::COMMAND, c); }
    void enable_interrupt() {
        command(0x60);
        kbd.write(I8042::DATA, 0x01);
    }
    std::vector<uint8_t> drain() {
        std::vector<uint8_t> bytes;
        while (kbd.read(I8042::COMMAND) & 0x01)
            bytes.push_back(kbd.read(I8042::DATA));
        return bytes;
    }
    FakeKeyboardIrq irq;
    int resets = 0;
    I8042 kbd{irq, [this] { ++resets; }};
};

const std::vector<uint8_t> CTRL_ALT_DEL = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14};

TEST_F(I8042Test, ResetCommandCallsResetHandler) {
    command(0xfe);
    EXPECT_EQ(resets, 1);
}

TEST_F(I8042Test, OtherCommandsDoNotReset) {
    command(0xa7);
    kbd.write(I8042::DATA, 0xfe);
    command(0xd1);
    kbd.write(I8042::DATA, 0x00);  // the output port's reset line is not a reset here
    EXPECT_EQ(resets, 0);
}

TEST_F(I8042Test, ConfigurationByteRoundTripsThroughCommands) {
    command(0x60);
    kbd.write(I8042::DATA, 0x45);
    command(0x20);
    EXPECT_EQ(kbd.read(I8042::COMMAND) & 0x01, 0x01);  // output buffer full
    EXPECT_EQ(kbd.read(I8042::DATA), 0x45);
    EXPECT_EQ(kbd.read(I8042::COMMAND) & 0x01, 0x00);
}

TEST_F(I8042Test, ControllerTestsPass) {
    command(0xaa);
    EXPECT_EQ(drain(), std::vector<uint8_t>{0x55});
    command(0xab);
    EXPECT_EQ(drain(), std::vector<uint8_t>{0x00});
}

TEST_F(I8042Test, KeyboardAnswersLinuxProbe) {
    kbd.write(I8042::DATA, 0xf2);  // get ID
    EXPECT_EQ(drain(), (std::vector<uint8_t>{0xfa, 0xab, 0x83}));
    kbd.write(I8042::DATA, 0xed);  // set LEDs, then its parameter
    EXPECT_EQ(drain(), std::vector<uint8_t>{0xfa});
    kbd.write(I8042::DATA, 0x07);
    EXPECT_EQ(drain(), std::vector<uint8_t>{0xfa});
    kbd.write(I8042::DATA, 0xf0);  // scan code set: which one?
    kbd.write(I8042::DATA, 0x00);
    EXPECT_EQ(drain(), (std::vector<uint8_t>{0xfa, 0x02}));
    kbd.write(I8042::DATA, 0xff);  // reset: ACK, then self-test passed
    EXPECT_EQ(drain(), (std::vector<uint8_t>{0xfa, 0xaa}));
    kbd.write(I8042::DATA, 0xf4);  // enable scanning
    EXPECT_EQ(drain(), std::vector<uint8_t>{0xfa});
}

TEST_F(I8042Test, CtrlAltDelArrivesInSet2WithOneInterruptPerByte) {
    enable_interrupt();
    ASSERT_TRUE(kbd.press_ctrl_alt_del());
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(drain(), CTRL_ALT_DEL);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(irq.rising_edges(), static_cast<int>(CTRL_ALT_DEL.size()));
}

TEST_F(I8042Test, NoInterruptUntilTheGuestEnablesIt) {
    ASSERT_TRUE(kbd.press_ctrl_alt_del());
    EXPECT_TRUE(irq.transitions.empty());
    enable_interrupt();
    EXPECT_TRUE(irq.level());
}

TEST_F(I8042Test, ControllerReplyComesFirstAndHoldsTheInterrupt) {
    enable_interrupt();
    ASSERT_TRUE(kbd.press_ctrl_alt_del());
    command(0x20);
    EXPECT_FALSE(irq.level());
    EXPECT_EQ(kbd.read(I8042::DATA), 0x01);
    EXPECT_TRUE(irq.level());
    EXPECT_EQ(kbd.read(I8042::DATA), 0x14);
}

TEST_F(I8042Test, FullBufferRefusesTheWholeSequence) {
    ASSERT_TRUE(kbd.press_ctrl_alt_del());
    EXPECT_FALSE(kbd.press_ctrl_alt_del());  // 22 bytes do not fit in 16
    EXPECT_EQ(drain(), CTRL_ALT_DEL);
    EXPECT_TRUE(kbd.press_ctrl_alt_del());
}

TEST_F(I8042Test, StateRoundTrips) {
    enable_interrupt();
    ASSERT_TRUE(kbd.press_ctrl_alt_del());
    command(0x20);  // the configuration byte waits at the data port
    FakeKeyboardIrq other_irq;
    I8042 other(other_irq, [] {});
    ASSERT_TRUE(other.restore(kbd.save()).ok());
    EXPECT_EQ(other.save(), kbd.save());
    EXPECT_EQ(other.read(I8042::DATA), 0x01);
    EXPECT_TRUE(other_irq.level());
    EXPECT_EQ(other.read(I8042::DATA), 0x14);
}

TEST_F(I8042Test, RestoreRefusesAnOverfullBuffer) {
    I8042::State state = kbd.save();
    state.keyboard_output.assign(I8042::KEYBOARD_BUFFER + 1, 0x1c);
    EXPECT_FALSE(kbd.restore(state).ok());
}

}  // namespace
}  // namespace vmm
