#include "devices/virtio/net.h"

#include <linux/if_tun.h>

#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <vector>

#include "devices/virtio/virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;
using Bytes = std::vector<uint8_t>;
namespace nf = net::feature;

constexpr uint32_t HDR = sizeof(net::Header);
constexpr Net::Mac MAC = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

// Frames in, frames out, as a TAP would pass them (header first).
struct FakeBackend final : NetBackend {
    std::deque<Bytes> incoming;
    std::vector<Bytes> sent;
    uint32_t offload = 0;
    bool accepts_offload = true;
    std::vector<bool> enabled_calls;

    Result<size_t> receive(std::span<uint8_t> frame) override {
        if (incoming.empty())
            return size_t{0};
        Bytes next = std::move(incoming.front());
        incoming.pop_front();
        std::memcpy(frame.data(), next.data(), std::min(next.size(), frame.size()));
        return std::min(next.size(), frame.size());
    }
    Status send(std::span<const iovec> parts) override {
        Bytes frame;
        for (const iovec& part : parts)
            frame.insert(frame.end(), static_cast<const uint8_t*>(part.iov_base),
                         static_cast<const uint8_t*>(part.iov_base) + part.iov_len);
        sent.push_back(std::move(frame));
        return {};
    }
    Status set_offload(uint32_t flags) override {
        if (!accepts_offload && flags)
            return Error("refused");
        offload = flags;
        return {};
    }
    Status set_enabled(bool enabled) override {
        enabled_calls.push_back(enabled);
        return {};
    }
    int fd() const override { return -1; }
};

// A frame with a header (num_buffers left 0) and `payload` bytes of a counting pattern.
Bytes frame_with_header(uint32_t payload, net::Header header = {}) {
    Bytes frame(HDR + payload);
    std::memcpy(frame.data(), &header, HDR);
    for (uint32_t i = 0; i < payload; ++i)
        frame[HDR + i] = static_cast<uint8_t>(i * 7 + 1);
    return frame;
}

struct NetTest : ::testing::Test {
    FakeDriverQueue driver{64, 0x200000};
    FakeBackend* backend = nullptr;
    std::unique_ptr<Net> device;
    Virtqueue queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();

    explicit NetTest(size_t pairs = 1) {
        std::vector<std::unique_ptr<NetBackend>> backends;
        for (size_t i = 0; i < pairs; ++i)
            backends.push_back(std::make_unique<FakeBackend>());
        backend = static_cast<FakeBackend*>(backends.front().get());
        device = std::make_unique<Net>(driver.memory(), std::move(backends), MAC);
    }

    uint64_t put(const Bytes& bytes) {
        const uint64_t addr = driver.alloc(static_cast<uint32_t>(bytes.size()));
        EXPECT_TRUE(driver.memory().write(addr, bytes).ok());
        return addr;
    }
    Bytes get(uint64_t addr, size_t len) {
        Bytes out(len);
        EXPECT_TRUE(driver.memory().read(addr, out).ok());
        return out;
    }
    // Posts a receive buffer; returns its address.
    uint64_t post(uint32_t len) {
        const uint64_t addr = driver.alloc(len);
        driver.add_chain({{addr, len, true}}, next_desc++);
        return addr;
    }
    uint16_t next_desc = 0;
};

TEST_F(NetTest, ConfigSpaceHasTheMacLinkUpAndOnePair) {
    EXPECT_EQ(device->device_id(), device_id::NET);
    EXPECT_EQ(device->queue_count(), 2u);
    uint8_t config[10] = {};
    device->read_config(0, config);
    EXPECT_EQ(0, std::memcmp(config, MAC.data(), 6));
    EXPECT_EQ(config[6], 1);  // VIRTIO_NET_S_LINK_UP
    EXPECT_EQ(config[8], 1);  // max_virtqueue_pairs
}

TEST_F(NetTest, OffersMacStatusMergeableAndOffloadsTheBackendTakes) {
    const uint64_t f = device->device_features();
    for (uint64_t bit : {nf::MAC, nf::STATUS, nf::MRG_RXBUF, nf::CSUM, nf::HOST_TSO4, nf::HOST_TSO6,
                         nf::GUEST_CSUM, nf::GUEST_TSO4, nf::GUEST_TSO6})
        EXPECT_TRUE(f & bit) << bit;
    EXPECT_FALSE(f & (nf::MQ | nf::CTRL_VQ | nf::HOST_ECN | nf::GUEST_ECN));
    EXPECT_EQ(backend->offload, 0u) << "the probe leaves receive offloads off until negotiated";
}

TEST_F(NetTest, NoGuestOffloadsWhenTheBackendRefusesThem) {
    auto refusing = std::make_unique<FakeBackend>();
    refusing->accepts_offload = false;
    std::vector<std::unique_ptr<NetBackend>> backends;
    backends.push_back(std::move(refusing));
    Net net(driver.memory(), std::move(backends), MAC);
    EXPECT_FALSE(net.device_features() & (nf::GUEST_CSUM | nf::GUEST_TSO4 | nf::GUEST_TSO6 | nf::GUEST_UFO));
}

TEST_F(NetTest, ActivationPassesNegotiatedReceiveOffloadsToTheBackend) {
    device->activate(nf::GUEST_CSUM | nf::GUEST_TSO4 | nf::HOST_TSO6);
    EXPECT_EQ(backend->offload, static_cast<uint32_t>(TUN_F_CSUM | TUN_F_TSO4));
}

TEST_F(NetTest, TransmitSendsTheHeaderAndFrame) {
    device->activate(nf::CSUM);
    net::Header header{};
    header.flags = net::HDR_F_NEEDS_CSUM;
    header.csum_start = 34;
    header.csum_offset = 16;
    const Bytes frame = frame_with_header(60, header);
    const uint64_t a = put(Bytes(frame.begin(), frame.begin() + HDR));
    const uint64_t b = put(Bytes(frame.begin() + HDR, frame.end()));
    driver.add_chain({{a, HDR, false}, {b, 60, false}});
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    ASSERT_EQ(backend->sent.size(), 1u);
    EXPECT_EQ(backend->sent[0], frame);
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).len, 0u);
    EXPECT_EQ(device->stats().tx_frames, 1u);
    EXPECT_EQ(device->stats().tx_bytes, 60u);
}

TEST_F(NetTest, TransmitWithoutAWholeHeaderIsDroppedAndCounted) {
    driver.add_chain({{put(Bytes(8, 0)), 8, false}});
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    EXPECT_TRUE(backend->sent.empty());
    EXPECT_EQ(device->stats().tx_dropped, 1u);
    EXPECT_EQ(driver.used_idx(), 1) << "the chain still goes back to the driver";
}

TEST_F(NetTest, OversizeAndRuntFramesAreDropped) {
    const uint32_t big = HDR + net::MAX_FRAME + 1;
    driver.add_chain({{driver.alloc(big), big, false}}, 0);
    driver.add_chain({{put(frame_with_header(net::ETH_HEADER - 1)), HDR + net::ETH_HEADER - 1, false}}, 1);
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    EXPECT_TRUE(backend->sent.empty());
    EXPECT_EQ(device->stats().tx_dropped, 2u);
}

TEST_F(NetTest, GsoThatWasNotNegotiatedIsDropped) {
    net::Header header{};
    header.gso_type = net::GSO_TCPV4;
    header.gso_size = 1448;
    const Bytes frame = frame_with_header(100, header);
    driver.add_chain({{put(frame), static_cast<uint32_t>(frame.size()), false}}, 0);
    device->activate(nf::CSUM);  // no HOST_TSO4
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    EXPECT_TRUE(backend->sent.empty());
    EXPECT_EQ(device->stats().tx_dropped, 1u);

    device->activate(nf::CSUM | nf::HOST_TSO4);
    driver.add_chain({{put(frame), static_cast<uint32_t>(frame.size()), false}}, 1);
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    EXPECT_EQ(backend->sent.size(), 1u);
}

// The header checked is the header sent: a host copy, with hdr_len clamped to the frame.
TEST_F(NetTest, TheSentHeaderIsTheSanitizedCopy) {
    net::Header header{};
    header.flags = 0xfe;  // DATA_VALID and unknown bits
    header.hdr_len = 9000;
    header.num_buffers = 7;
    const Bytes frame = frame_with_header(100, header);
    driver.add_chain({{put(frame), static_cast<uint32_t>(frame.size()), false}});
    ASSERT_TRUE(device->process_queue(1, queue).ok());
    ASSERT_EQ(backend->sent.size(), 1u);
    net::Header sent;
    std::memcpy(&sent, backend->sent[0].data(), HDR);
    EXPECT_EQ(sent.flags, 0);
    EXPECT_EQ(sent.hdr_len, 100);
    EXPECT_EQ(sent.num_buffers, 0);
}

TEST_F(NetTest, ReceiveDeliversAFrameWithNumBuffersOne) {
    const Bytes frame = frame_with_header(200);
    backend->incoming.push_back(frame);
    const uint64_t buf = post(1526);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    ASSERT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).len, frame.size());
    Bytes expected = frame;
    expected[10] = 1;  // num_buffers
    EXPECT_EQ(get(buf, frame.size()), expected);
    EXPECT_EQ(device->stats().rx_frames, 1u);
}

// Backpressure: with no buffers posted at most one frame leaves the backend; the rest wait
// there, and all arrive in order once buffers do.
TEST_F(NetTest, ReceiveWithoutBuffersLeavesFramesInTheBackend) {
    for (uint32_t i = 0; i < 3; ++i)
        backend->incoming.push_back(frame_with_header(60 + i));
    auto more = device->process_queue(0, queue);
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(backend->incoming.size(), 2u);
    EXPECT_FALSE(*more);
    EXPECT_EQ(device->stats().rx_dropped, 0u);
    for (int i = 0; i < 3; ++i)
        post(1526);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    EXPECT_TRUE(backend->incoming.empty());
    ASSERT_EQ(driver.used_idx(), 3);
    for (uint16_t i = 0; i < 3; ++i)
        EXPECT_EQ(driver.used_elem(i).len, HDR + 60 + i);
}

TEST_F(NetTest, ReceiveIntoABufferTooSmallWithoutMergeableDropsTheFrame) {
    backend->incoming.push_back(frame_with_header(1000));
    post(512);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    ASSERT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).len, 0u);
    EXPECT_EQ(device->stats().rx_dropped, 1u);
}

TEST_F(NetTest, MergeableReceiveSpreadsAFrameOverBuffers) {
    device->activate(nf::MRG_RXBUF);
    const Bytes frame = frame_with_header(2500);
    backend->incoming.push_back(frame);
    const uint64_t a = post(1024), b = post(1024), c = post(1024);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    ASSERT_EQ(driver.used_idx(), 3);
    EXPECT_EQ(driver.used_elem(0).len, 1024u);
    EXPECT_EQ(driver.used_elem(1).len, 1024u);
    EXPECT_EQ(driver.used_elem(2).len, frame.size() - 2048);
    Bytes got = get(a, 1024), rest_b = get(b, 1024), rest_c = get(c, frame.size() - 2048);
    got.insert(got.end(), rest_b.begin(), rest_b.end());
    got.insert(got.end(), rest_c.begin(), rest_c.end());
    Bytes expected = frame;
    expected[10] = 3;  // num_buffers
    EXPECT_EQ(got, expected);
}

TEST_F(NetTest, MergeableReceiveWaitsWhenBuffersRunOutMidFrame) {
    device->activate(nf::MRG_RXBUF);
    backend->incoming.push_back(frame_with_header(2500));
    post(1024);
    post(1024);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_idx(), 0) << "partly filled buffers go back to the ring, unused";
    post(1024);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_idx(), 3);
    EXPECT_EQ(device->stats().rx_frames, 1u);
}

TEST_F(NetTest, AReceiveBufferSmallerThanTheHeaderIsADriverError) {
    backend->incoming.push_back(frame_with_header(60));
    post(HDR - 1);
    EXPECT_FALSE(device->process_queue(0, queue).ok());
}

TEST_F(NetTest, ReceiveStopsAtItsBudgetAndSaysSo) {
    for (size_t i = 0; i < Net::FRAMES_PER_CALL + 5; ++i)
        backend->incoming.push_back(frame_with_header(60));
    for (size_t i = 0; i < 64; ++i)
        post(128);
    auto more = device->process_queue(0, queue);
    ASSERT_TRUE(more.ok());
    EXPECT_EQ(driver.used_idx(), Net::FRAMES_PER_CALL);
    EXPECT_TRUE(*more);
}

struct NetMultiqueueTest : NetTest {
    NetMultiqueueTest() : NetTest(2) {}

    // A control command in, its ack byte back.
    uint8_t command(const Bytes& bytes) {
        const uint64_t ack = driver.alloc(1);
        driver.add_chain({{put(bytes), static_cast<uint32_t>(bytes.size()), false}, {ack, 1, true}}, next_desc);
        next_desc = static_cast<uint16_t>(next_desc + 2);
        EXPECT_TRUE(device->process_queue(4, queue).ok());
        return get(ack, 1)[0];
    }
};

TEST_F(NetMultiqueueTest, OffersMqWithAControlQueue) {
    EXPECT_EQ(device->queue_count(), 5u);
    EXPECT_TRUE(device->device_features() & nf::MQ);
    EXPECT_TRUE(device->device_features() & nf::CTRL_VQ);
    uint8_t pairs = 0;
    device->read_config(8, std::span(&pairs, 1));
    EXPECT_EQ(pairs, 2);
}

TEST_F(NetMultiqueueTest, ActivationUsesOnlyTheFirstPair) {
    device->activate(nf::MQ | nf::CTRL_VQ);
    EXPECT_EQ(backend->enabled_calls, std::vector<bool>{true});
}

TEST_F(NetMultiqueueTest, VqPairsSetIsAcknowledgedWithinRange) {
    device->activate(nf::MQ | nf::CTRL_VQ);
    EXPECT_EQ(command({4, 0, 2, 0}), 0) << "MQ_VQ_PAIRS_SET 2";
    EXPECT_EQ(command({4, 0, 3, 0}), 1) << "more pairs than offered";
    EXPECT_EQ(command({4, 0, 0, 0}), 1) << "zero pairs";
    EXPECT_EQ(command({0, 0, 1}), 1) << "RX mode class: not supported";
    EXPECT_EQ(command({4, 0, 2}), 1) << "truncated data";
}

TEST_F(NetMultiqueueTest, AControlCommandWithoutAnAckByteIsADriverError) {
    device->activate(nf::MQ | nf::CTRL_VQ);
    driver.add_chain({{put({4, 0, 1, 0}), 4, false}});
    EXPECT_FALSE(device->process_queue(4, queue).ok());
}

TEST_F(NetTest, AWaitingFrameSurvivesSaveAndRestore) {
    Net::State state = device->save();
    EXPECT_EQ(state.active_pairs, 1u);
    ASSERT_EQ(state.waiting_frames.size(), 1u);
    state.waiting_frames[0] = frame_with_header(60);
    ASSERT_TRUE(device->restore(state).ok());
    EXPECT_EQ(device->save(), state);
    const uint64_t buf = post(2048);
    ASSERT_TRUE(device->process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(get(buf + HDR, 60), Bytes(state.waiting_frames[0].begin() + HDR, state.waiting_frames[0].end()));
    EXPECT_TRUE(device->save().waiting_frames[0].empty());
}

TEST_F(NetTest, RestoreRefusesAStateThatDoesNotFit) {
    Net::State state = device->save();
    state.active_pairs = 2;  // one pair only
    EXPECT_FALSE(device->restore(state).ok());
    state = device->save();
    state.waiting_frames.emplace_back();
    EXPECT_FALSE(device->restore(state).ok());
    state = device->save();
    state.waiting_frames[0].assign(70000, 0);
    EXPECT_FALSE(device->restore(state).ok());
}

}  // namespace
}  // namespace vmm::virtio
