#include "vmm/device_state_codec.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

template <typename State, typename Decode>
State round_trip(const State& state, Decode decode) {
    StateEncoder out;
    encode_state(state, out);
    const auto bytes = out.take();
    StateDecoder in(bytes, "test");
    auto back = decode(in);
    EXPECT_TRUE(back.ok()) << back.error().message();
    EXPECT_TRUE(in.finish().ok());
    // Every shorter encoding is refused.
    for (size_t length = 0; length < bytes.size(); ++length) {
        StateDecoder cut(std::span<const uint8_t>(bytes).first(length), "test");
        auto partial = decode(cut);
        EXPECT_TRUE(!partial.ok() || !cut.finish().ok()) << length;
    }
    return std::move(back).value();
}

TEST(DeviceStateCodec, SerialRoundTrips) {
    const Serial::State state{1, 2, 3, 4, 5, 6, 7, true, {'a', 'b', 'c'}};
    EXPECT_EQ(round_trip(state, decode_serial_state), state);
}

TEST(DeviceStateCodec, I8042RoundTripsWithAndWithoutAControllerByte) {
    I8042::State state{std::nullopt, {0x1d, 0x38}, 0x60, 0x47};
    EXPECT_EQ(round_trip(state, decode_i8042_state), state);
    state.controller_output = 0x55;
    EXPECT_EQ(round_trip(state, decode_i8042_state), state);
}

TEST(DeviceStateCodec, CmosRoundTrips) {
    Cmos::State state{0x0b, {}};
    for (size_t i = 0; i < state.ram.size(); ++i)
        state.ram[i] = static_cast<uint8_t>(i * 3);
    EXPECT_EQ(round_trip(state, decode_cmos_state), state);
}

TEST(DeviceStateCodec, TransportWithRunningAndIdleQueuesRoundTrips) {
    virtio::MmioTransport::State state;
    state.core.status = 0x0f;
    state.core.driver_features = 0x1'3000'0000ull;
    state.core.config_generation = 3;
    virtio::VirtioCore::QueueState running;
    running.layout = {128, 0x10000, 0x11000, 0x12000};
    running.ready = true;
    running.queue = virtio::Virtqueue::State{running.layout, true, false, 17, 15, 14};
    virtio::VirtioCore::QueueState idle;
    idle.layout = {256, 0, 0, 0};
    state.core.queues = {running, idle};
    state.queue_sel = 1;
    state.interrupt_status = 1;
    EXPECT_EQ(round_trip(state, decode_mmio_transport_state), state);
}

TEST(DeviceStateCodec, NetRoundTripsWithAWaitingFrame) {
    const virtio::Net::State state{2, {{}, {1, 2, 3, 4}}};
    EXPECT_EQ(round_trip(state, decode_net_state), state);
}

TEST(DeviceStateCodec, ConsoleRoundTripsWithUndeliveredInput) {
    const virtio::Console::State state{77, {'h', 'i', '\n'}};
    EXPECT_EQ(round_trip(state, decode_console_state), state);
    StateEncoder out;
    out.put(uint64_t{0});
    out.put_vector(std::vector<uint8_t>(virtio::Console::INPUT_CAPACITY + 1));
    const auto bytes = out.take();
    StateDecoder in(bytes, "test");
    EXPECT_FALSE(decode_console_state(in).ok()) << "more input than the console can hold";
}

TEST(DeviceStateCodec, FlagsOtherThanZeroOrOneAndHugeBuffersAreRefused) {
    StateEncoder out;
    encode_state(Serial::State{0, 3, 8, 0, 0, 1, 0, false, {}}, out);
    auto bytes = out.take();
    bytes[7] = 2;  // thr_empty_pending
    StateDecoder flag(bytes, "test");
    EXPECT_FALSE(decode_serial_state(flag).ok());
    StateEncoder big;
    for (int i = 0; i < 8; ++i)
        big.put(uint8_t{0});
    big.put(uint32_t{1u << 30});  // a receive FIFO of 1 GiB
    const auto huge = big.take();
    StateDecoder fifo(huge, "test");
    auto refused = decode_serial_state(fifo);
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message().find("at most 4096"), std::string::npos) << refused.error().message();
}

}  // namespace
}  // namespace vmm
