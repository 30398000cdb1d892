#include "devices/virtio/console.h"

#include <gtest/gtest.h>

#include <string>

#include "devices/virtio/virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct ConsoleTest : ::testing::Test {
    FakeDriverQueue rx_driver;
    FakeDriverQueue tx_driver;
    std::string output;
    int space_calls = 0;
    // Both queues live in tx_driver's memory for TX; RX uses its own fake driver memory.
    Console rx_console{rx_driver.memory(), [this](std::span<const uint8_t> b) { output.append(b.begin(), b.end()); },
                       [this] { ++space_calls; }};
    Console tx_console{tx_driver.memory(), [this](std::span<const uint8_t> b) { output.append(b.begin(), b.end()); },
                       [] {}};
    Virtqueue rxq = Virtqueue::create(rx_driver.memory(), rx_driver.layout(), false, false).value();
    Virtqueue txq = Virtqueue::create(tx_driver.memory(), tx_driver.layout(), false, false).value();

    std::string read_guest(FakeDriverQueue& d, uint64_t addr, size_t len) {
        std::string s(len, '\0');
        (void)d.memory().read(addr, std::span(reinterpret_cast<uint8_t*>(s.data()), len));
        return s;
    }
};

TEST_F(ConsoleTest, IsAConsoleWithTwoQueues) {
    EXPECT_EQ(tx_console.device_id(), device_id::CONSOLE);
    EXPECT_EQ(tx_console.queue_count(), 2u);
    EXPECT_EQ(tx_console.device_features(), 0u);
}

// §5.3.6.1: transmit buffers are read, their writable part ignored, used length 0.
TEST_F(ConsoleTest, TransmitWritesReadableBytesToTheSink) {
    const uint64_t a = tx_driver.alloc(5), b = tx_driver.alloc(8);
    (void)tx_driver.memory().write(a, std::span(reinterpret_cast<const uint8_t*>("hello"), 5));
    tx_driver.add_chain({{a, 5, false}, {b, 8, true}});
    ASSERT_TRUE(tx_console.process_queue(Console::TRANSMITQ, txq).ok());
    EXPECT_EQ(output, "hello");
    EXPECT_EQ(tx_driver.used_idx(), 1);
    EXPECT_EQ(tx_driver.used_elem(0).len, 0u);
}

// A flooding driver gets a bounded amount of work per notification.
TEST_F(ConsoleTest, TransmitServesABoundedNumberPerCall) {
    static_assert(Console::REQUESTS_PER_CALL < 128);
    FakeDriverQueue big(128);
    Console console(big.memory(), [this](std::span<const uint8_t> b) { output.append(b.begin(), b.end()); }, [] {});
    auto queue = Virtqueue::create(big.memory(), big.layout(), false, false).value();
    const uint64_t a = big.alloc(1);
    (void)big.memory().store<uint8_t>(a, 'z');
    for (int i = 0; i < 128; ++i)
        big.add_chain({{a, 1, false}});  // every entry names descriptor 0
    ASSERT_TRUE(console.process_queue(Console::TRANSMITQ, queue).ok());
    EXPECT_EQ(big.used_idx(), Console::REQUESTS_PER_CALL);
    EXPECT_EQ(output.size(), Console::REQUESTS_PER_CALL);
    EXPECT_TRUE(queue.has_available());
}

TEST_F(ConsoleTest, ReceiveWaitsForInputBeforeTakingBuffers) {
    const uint64_t buf = rx_driver.alloc(16);
    rx_driver.add_chain({{buf, 16, true}});
    ASSERT_TRUE(rx_console.process_queue(Console::RECEIVEQ, rxq).ok());
    EXPECT_EQ(rx_driver.used_idx(), 0);  // nothing to deliver: the buffer stays posted
    const std::string in = "abc";
    EXPECT_EQ(rx_console.enqueue_input(std::span(reinterpret_cast<const uint8_t*>(in.data()), 3)), 3u);
    ASSERT_TRUE(rx_console.process_queue(Console::RECEIVEQ, rxq).ok());
    EXPECT_EQ(rx_driver.used_idx(), 1);
    EXPECT_EQ(rx_driver.used_elem(0).len, 3u);
    EXPECT_EQ(read_guest(rx_driver, buf, 3), "abc");
    EXPECT_EQ(space_calls, 1);
}

TEST_F(ConsoleTest, InputLongerThanABufferSpansSeveralBuffers) {
    const std::string in(20, 'x');
    rx_console.enqueue_input(std::span(reinterpret_cast<const uint8_t*>(in.data()), in.size()));
    rx_driver.add_chain({{rx_driver.alloc(8), 8, true}}, 0);
    rx_driver.add_chain({{rx_driver.alloc(16), 16, true}}, 1);
    ASSERT_TRUE(rx_console.process_queue(Console::RECEIVEQ, rxq).ok());
    EXPECT_EQ(rx_driver.used_elem(0).len, 8u);
    EXPECT_EQ(rx_driver.used_elem(1).len, 12u);
}

TEST_F(ConsoleTest, BufferedInputIsBounded) {
    std::vector<uint8_t> flood(Console::INPUT_CAPACITY + 100, 'y');
    EXPECT_EQ(rx_console.enqueue_input(flood), Console::INPUT_CAPACITY);
    EXPECT_EQ(rx_console.enqueue_input(flood), 0u);
}

TEST_F(ConsoleTest, InputSurvivesADeviceReset) {
    const std::string in = "k";
    rx_console.enqueue_input(std::span(reinterpret_cast<const uint8_t*>(in.data()), 1));
    rx_console.reset();
    rx_driver.add_chain({{rx_driver.alloc(4), 4, true}});
    ASSERT_TRUE(rx_console.process_queue(Console::RECEIVEQ, rxq).ok());
    EXPECT_EQ(rx_driver.used_elem(0).len, 1u);
}

}  // namespace
}  // namespace vmm::virtio

namespace vmm::virtio {
namespace {

// Regression: receive buffers posted with no host input are no work; reporting them as work
// made the event loop re-kick the queue forever (a core at 100 % for an idle VM).
TEST_F(ConsoleTest, ReceiveBuffersWithoutInputAreNoWork) {
    for (int i = 0; i < 4; ++i)
        rx_driver.add_chain({{rx_driver.alloc(64), 64, true}}, static_cast<uint16_t>(i));
    auto more = rx_console.process_queue(Console::RECEIVEQ, rxq);
    ASSERT_TRUE(more.ok());
    EXPECT_FALSE(*more);
    EXPECT_EQ(rx_driver.used_idx(), 0);
}

// A 4 GiB chain (the same page again and again) is written TX_BYTES_PER_CALL at a time, the
// rest in later calls, so one call never hands the sink more than the budget.
TEST_F(ConsoleTest, TransmitHandsTheSinkABoundedNumberOfBytesPerCall) {
    FakeDriverQueue big(16, 16 << 20);
    size_t calls_bytes = 0;
    Console console(big.memory(), [&](std::span<const uint8_t> b) { calls_bytes += b.size(); }, [] {});
    auto queue = Virtqueue::create(big.memory(), big.layout(), false, false).value();
    const uint64_t page = big.alloc(8 << 20);
    std::vector<FakeDriverQueue::Segment> segments(8, {page, 8u << 20, false});
    big.add_chain(segments);
    auto more = console.process_queue(Console::TRANSMITQ, queue);
    ASSERT_TRUE(more.ok());
    EXPECT_TRUE(*more);
    EXPECT_EQ(calls_bytes, Console::TX_BYTES_PER_CALL);
    EXPECT_EQ(big.used_idx(), 0);
    uint64_t total = calls_bytes;
    for (int i = 0; i < 10000 && *more; ++i) {
        calls_bytes = 0;
        more = console.process_queue(Console::TRANSMITQ, queue);
        ASSERT_TRUE(more.ok());
        EXPECT_LE(calls_bytes, Console::TX_BYTES_PER_CALL);
        total += calls_bytes;
    }
    EXPECT_EQ(total, 64ull << 20);
    EXPECT_EQ(big.used_idx(), 1);
}

TEST_F(ConsoleTest, UndeliveredInputSurvivesSaveAndRestore) {
    const uint8_t input[] = {'h', 'i'};
    ASSERT_EQ(rx_console.enqueue_input(input), 2u);
    const Console::State saved = rx_console.save();
    EXPECT_EQ(saved.input, (std::vector<uint8_t>{'h', 'i'}));

    Console other{rx_driver.memory(), [](std::span<const uint8_t>) {}, [] {}};
    ASSERT_TRUE(other.restore(saved).ok());
    EXPECT_EQ(other.save(), saved);
    const uint64_t buf = rx_driver.alloc(16);
    rx_driver.add_chain({{buf, 16, true}});
    ASSERT_TRUE(other.process_queue(Console::RECEIVEQ, rxq).ok());
    EXPECT_EQ(read_guest(rx_driver, buf, 2), "hi");
}

TEST_F(ConsoleTest, RestoreRefusesMoreInputThanItBuffers) {
    Console::State state;
    state.input.assign(Console::INPUT_CAPACITY + 1, 'x');
    EXPECT_FALSE(rx_console.restore(state).ok());
}

}  // namespace
}  // namespace vmm::virtio
