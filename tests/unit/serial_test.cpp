#include "devices/legacy/serial.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vmm {
namespace {

constexpr uint8_t THR = 0, IER = 1, IIR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

struct FakeIrq : IrqLine {
    void set_level(bool asserted) override {
        level = asserted;
        transitions.push_back(asserted);
    }
    bool level = false;
    std::vector<bool> transitions;
};

struct SerialTest : ::testing::Test {
    FakeIrq irq;
    std::string output;
    Serial serial{irq, [this](uint8_t b) { output.push_back(static_cast<char>(b)); }};
};

TEST_F(SerialTest, TransmitWritesToOutputSink) {
    for (char c : std::string("hi\n"))
        serial.write(THR, static_cast<uint8_t>(c));
    EXPECT_EQ(output, "hi\n");
}

TEST_F(SerialTest, LineStatusReportsTransmitterEmptyAndDataReady) {
    EXPECT_EQ(serial.read(LSR), 0x60);
    const uint8_t in[] = {'x'};
    serial.enqueue_input(in);
    EXPECT_EQ(serial.read(LSR), 0x61);
    EXPECT_EQ(serial.read(THR), 'x');
    EXPECT_EQ(serial.read(LSR), 0x60);
}

TEST_F(SerialTest, DivisorLatchIsSeparateFromDataAndIer) {
    serial.write(LCR, 0x80);
    serial.write(THR, 0x01);
    serial.write(IER, 0x02);
    EXPECT_TRUE(output.empty());
    EXPECT_EQ(serial.read(THR), 0x01);
    EXPECT_EQ(serial.read(IER), 0x02);
    serial.write(LCR, 0x03);
    EXPECT_EQ(serial.read(IER), 0x00);
    EXPECT_FALSE(irq.level);
}

TEST_F(SerialTest, EnablingThreInterruptRaisesItAtOnceAndIirReadClearsIt) {
    serial.write(IER, 0x02);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(serial.read(IIR) & 0x0f, 0x02);
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(serial.read(IIR) & 0x0f, 0x01);
}

TEST_F(SerialTest, TransmitRaisesThreInterruptAgain) {
    serial.write(IER, 0x02);
    (void)serial.read(IIR);
    serial.write(THR, 'a');
    EXPECT_TRUE(irq.level);
}

TEST_F(SerialTest, ReceivedDataRaisesInterruptUntilDrained) {
    serial.write(IER, 0x01);
    EXPECT_FALSE(irq.level);
    const uint8_t in[] = {'a', 'b'};
    EXPECT_EQ(serial.enqueue_input(in), 2u);
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(serial.read(IIR) & 0x0f, 0x04);
    EXPECT_EQ(serial.read(THR), 'a');
    EXPECT_TRUE(irq.level);
    EXPECT_EQ(serial.read(THR), 'b');
    EXPECT_FALSE(irq.level);
}

TEST_F(SerialTest, ReceiveFifoIsBoundedAndDrainNotifies) {
    int drained = 0;
    serial.set_rx_drained_listener([&] { ++drained; });
    std::vector<uint8_t> flood(Serial::RX_FIFO_SIZE + 10, 'z');
    EXPECT_EQ(serial.enqueue_input(flood), Serial::RX_FIFO_SIZE);
    EXPECT_EQ(serial.input_space(), 0u);
    for (size_t i = 0; i < Serial::RX_FIFO_SIZE; ++i)
        (void)serial.read(THR);
    EXPECT_EQ(drained, 1);
    EXPECT_EQ(serial.read(THR), 0);  // empty FIFO reads as 0
}

TEST_F(SerialTest, FifoControlClearsReceiveFifoAndShowsInIir) {
    const uint8_t in[] = {'q'};
    serial.enqueue_input(in);
    serial.write(IIR, 0x03);  // FCR: enable + clear RX
    EXPECT_EQ(serial.read(LSR) & 0x01, 0);
    EXPECT_EQ(serial.read(IIR) & 0xc0, 0xc0);
}

TEST_F(SerialTest, LoopbackRoutesOutputToInputAndModemLines) {
    serial.write(MCR, 0x10 | 0x0a);  // loop, RTS, OUT2: what Linux's 8250 probe writes
    EXPECT_EQ(serial.read(MSR) & 0xf0, 0x90);
    serial.write(THR, 'L');
    EXPECT_TRUE(output.empty());
    EXPECT_EQ(serial.read(THR), 'L');
}

TEST_F(SerialTest, ModemStatusWithoutLoopbackShowsCarrierAndReady) {
    EXPECT_EQ(serial.read(MSR), 0xb0);
}

TEST_F(SerialTest, ScratchRegisterHoldsItsValue) {
    serial.write(SCR, 0xa5);
    EXPECT_EQ(serial.read(SCR), 0xa5);
}

TEST_F(SerialTest, IrqLineOnlyToggledOnChange) {
    serial.write(IER, 0x02);
    serial.write(SCR, 1);
    serial.write(SCR, 2);
    EXPECT_EQ(irq.transitions, std::vector<bool>{true});
}

}  // namespace
}  // namespace vmm

namespace vmm {
namespace {

// The Linux 8250 driver's own register sequence (drivers/tty/serial/8250/8250_port.c): the
// startup tests, then interrupt-driven transmit as the tty layer drives it when userspace
// writes to /dev/console. Each step asserts what the driver checks.
TEST_F(SerialTest, LinuxDriverStartupAndInterruptDrivenTransmit) {
    // autoconfig: FIFO detection (IIR bits 7:6 = 3 means a 16550A).
    serial.write(IIR, 0x01);
    EXPECT_EQ(serial.read(IIR) >> 6, 3);
    // Loopback test: MCR = LOOP | OUT2 | RTS must read back CTS | DCD in MSR.
    serial.write(MCR, 0x10 | 0x0a);
    EXPECT_EQ(serial.read(MSR) & 0xf0, 0x90);
    serial.write(MCR, 0x00);
    // serial8250_do_startup: UART_BUG_THRE test; THRE must be reasserted when IER.THRI is
    // enabled again with the transmitter idle.
    serial.write(IER, 0x02);
    const uint8_t iir1 = serial.read(IIR);
    serial.write(IER, 0x00);
    serial.write(IER, 0x02);
    const uint8_t iir2 = serial.read(IIR);
    serial.write(IER, 0x00);
    EXPECT_EQ(iir1 & 0x0f, 0x02);  // THRE pending
    EXPECT_EQ(iir2 & 0x0f, 0x02);  // reasserted: no UART_BUG_THRE
    // UART_BUG_TXEN test: with THRI enabled, LSR.TEMT set and IIR must not say "no interrupt".
    serial.write(IER, 0x02);
    EXPECT_TRUE(serial.read(LSR) & 0x40);
    EXPECT_EQ(serial.read(IIR) & 0x01, 0);
    serial.write(IER, 0x00);
    // OUT2 and the receive interrupt on, as after startup.
    serial.write(MCR, 0x0b);
    serial.write(IER, 0x05);
    irq.transitions.clear();

    // start_tx: IER |= THRI raises the interrupt at once (the holding register is empty).
    serial.write(IER, 0x07);
    ASSERT_TRUE(irq.level);
    // The interrupt handler loops: IIR says THRE, LSR says THRE, up to 16 bytes are written,
    // and again until the buffer is empty; then stop_tx clears THRI.
    const std::string text = "userspace says hello from /init\n";
    size_t sent = 0;
    for (int round = 0; round < 10 && sent < text.size(); ++round) {
        ASSERT_EQ(serial.read(IIR) & 0x0f, 0x02) << "round " << round;
        ASSERT_TRUE(serial.read(LSR) & 0x20);
        for (int i = 0; i < 16 && sent < text.size(); ++i)
            serial.write(THR, static_cast<uint8_t>(text[sent++]));
        EXPECT_TRUE(irq.level);  // THRE pending again: the next round of the handler
    }
    serial.write(IER, 0x05);  // __stop_tx
    EXPECT_EQ(serial.read(IIR) & 0x0f, 0x01);  // no interrupt pending
    EXPECT_FALSE(irq.level);
    EXPECT_EQ(output, text);
}

TEST_F(SerialTest, StateRoundTripsIntoAFreshUart) {
    serial.write(LCR, 0x83);  // DLAB
    serial.write(THR, 0x01);  // DLL: 115200
    serial.write(LCR, 0x03);
    serial.write(SCR, 0x5a);
    serial.write(IER, 0x01);  // receive interrupt
    const uint8_t input[] = {'a', 'b'};
    serial.enqueue_input(input);
    const Serial::State saved = serial.save();

    FakeIrq other_irq;
    Serial other{other_irq, [](uint8_t) {}};
    ASSERT_TRUE(other.restore(saved).ok());
    EXPECT_EQ(other.save(), saved);
    EXPECT_TRUE(other_irq.level);  // data waiting with the receive interrupt on
    EXPECT_EQ(other.read(SCR), 0x5a);
    EXPECT_EQ(other.read(THR), 'a');
    EXPECT_EQ(other.read(THR), 'b');
    other.write(LCR, 0x83);
    EXPECT_EQ(other.read(THR), 0x01);
}

TEST_F(SerialTest, RestoreRefusesMoreInputThanTheFifoHolds) {
    Serial::State state = serial.save();
    state.rx.assign(Serial::RX_FIFO_SIZE + 1, 'x');
    EXPECT_FALSE(serial.restore(state).ok());
}

}  // namespace
}  // namespace vmm
