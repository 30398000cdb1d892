#include "devices/virtio/vsock.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

#include "base/unix_address.h"

namespace vmm::virtio {
namespace {

using vsock::Header;
namespace op = vsock::op;
constexpr uint64_t CID = 3;
constexpr uint32_t VSOCK_HDR = vsock::HEADER_SIZE;

// The driver's side of one split queue in shared guest memory (VIRTIO 1.2 §2.7.13).
struct Ring {
    GuestMemory& memory;
    uint64_t base;
    uint16_t size = 16;
    uint16_t avail = 0;
    uint16_t next_desc = 0;

    QueueLayout layout() const { return {size, base, base + 0x1000, base + 0x2000}; }
    // One descriptor per buffer, chained.
    void add(const std::vector<std::pair<uint64_t, uint32_t>>& buffers, bool writable) {
        const uint16_t head = next_desc;
        for (size_t i = 0; i < buffers.size(); ++i) {
            const uint16_t index = static_cast<uint16_t>(next_desc++ % size);
            const bool last = i + 1 == buffers.size();
            VirtqDesc desc{buffers[i].first, buffers[i].second,
                           static_cast<uint16_t>((last ? 0 : VIRTQ_DESC_F_NEXT) | (writable ? VIRTQ_DESC_F_WRITE : 0)),
                           static_cast<uint16_t>(next_desc % size)};
            (void)memory.store(base + 16ull * index, desc);
        }
        (void)memory.store<uint16_t>(base + 0x1000 + 4 + 2ull * (avail % size), static_cast<uint16_t>(head % size));
        (void)memory.store<uint16_t>(base + 0x1000 + 2, ++avail);
    }
    uint16_t used_idx() { return memory.load<uint16_t>(base + 0x2000 + 2).value(); }
    uint32_t used_len(uint16_t slot) { return memory.load<uint32_t>(base + 0x2000 + 4 + 8ull * (slot % size) + 4).value(); }
};

struct VsockTest : ::testing::Test {
    std::string dir;
    std::string path;
    GuestMemory memory = [] {
        const MemoryRegionSpec spec[] = {{0, 1 << 20}};
        return std::move(GuestMemory::create(spec).value());
    }();
    Ring rx_ring{memory, 0x10000}, tx_ring{memory, 0x20000};
    std::unique_ptr<Vsock> device;
    std::optional<Virtqueue> rxq, txq;
    std::vector<size_t> kicks;
    uint64_t next_data = 0x40000;

    VsockTest() {
        char templ[] = "/tmp/ember-vsock-test.XXXXXX";
        dir = ::mkdtemp(templ);
        path = dir + "/v.sock";
        auto muxer = vsock::Muxer::create(CID, UnixListener::bind(path, "test").value());
        device = std::make_unique<Vsock>(memory, CID, std::move(muxer).value());
        device->set_queue_kick([this](size_t q) { kicks.push_back(q); });
        rxq = Virtqueue::create(memory, rx_ring.layout(), false, false).value();
        txq = Virtqueue::create(memory, tx_ring.layout(), false, false).value();
    }
    ~VsockTest() override {
        device.reset();
        std::string cmd = "rm -rf " + dir;
        [[maybe_unused]] int rc = std::system(cmd.c_str());
    }

    uint64_t alloc(uint32_t len) {
        const uint64_t at = next_data;
        next_data += (len + 15) & ~15u;
        return at;
    }
    Header guest_header(uint16_t operation, uint32_t src_port, uint32_t dst_port, uint32_t len = 0) {
        Header h{};
        h.src_cid = CID;
        h.dst_cid = vsock::HOST_CID;
        h.src_port = src_port;
        h.dst_port = dst_port;
        h.len = len;
        h.type = vsock::TYPE_STREAM;
        h.op = operation;
        h.buf_alloc = 64 * 1024;
        return h;
    }
    // The guest sends a packet (header and payload in two descriptors, as Linux does).
    void send(Header h, const std::string& payload = "") {
        h.len = static_cast<uint32_t>(payload.size());
        const uint64_t at = alloc(VSOCK_HDR);
        (void)memory.write(at, std::span(reinterpret_cast<const uint8_t*>(&h), VSOCK_HDR));
        std::vector<std::pair<uint64_t, uint32_t>> buffers{{at, VSOCK_HDR}};
        if (!payload.empty()) {
            const uint64_t data = alloc(static_cast<uint32_t>(payload.size()));
            (void)memory.write(data, std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
            buffers.emplace_back(data, static_cast<uint32_t>(payload.size()));
        }
        tx_ring.add(buffers, false);
        ASSERT_TRUE(device->process_queue(Vsock::TXQ, *txq).ok());
    }
    // The packets the device has for the guest, each into a posted 4 KiB buffer.
    struct Packet {
        Header header;
        std::string payload;
    };
    // Keeps `buffers` receive buffers posted (those not used before stay), serves the queue.
    std::vector<Packet> receive(size_t buffers = 4) {
        while (posted.size() < buffers) {
            posted.push_back(alloc(4096));
            rx_ring.add({{posted.back(), 4096}}, true);
        }
        const uint16_t before = rx_ring.used_idx();
        EXPECT_TRUE(device->process_queue(Vsock::RXQ, *rxq).ok());
        std::vector<Packet> packets;
        for (uint16_t slot = before; slot != rx_ring.used_idx(); ++slot) {
            const uint64_t at = posted.front();
            posted.pop_front();
            Packet p;
            (void)memory.read(at, std::span(reinterpret_cast<uint8_t*>(&p.header), VSOCK_HDR));
            EXPECT_EQ(rx_ring.used_len(slot), VSOCK_HDR + p.header.len);
            p.payload.resize(p.header.len);
            (void)memory.read(at + VSOCK_HDR, std::span(reinterpret_cast<uint8_t*>(p.payload.data()), p.header.len));
            packets.push_back(p);
        }
        return packets;
    }
    std::deque<uint64_t> posted;  // receive buffers the device has not used yet, in order
    int host_connect(const std::string& where) {
        int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const auto address = unix_address(where).value();
        EXPECT_EQ(::connect(fd, as_sockaddr(address), sizeof address), 0);
        return fd;
    }
    static void host_write(int fd, const std::string& s) { ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size())); }
    static std::string host_read(int fd, size_t max = 256) {
        std::string s(max, '\0');
        const ssize_t n = ::recv(fd, s.data(), max, MSG_DONTWAIT);
        s.resize(n > 0 ? static_cast<size_t>(n) : 0);
        return s;
    }
    // A host-initiated stream to guest port 52, established; returns the host's fd and sets `port`.
    int established_from_host(uint32_t& port) {
        const int fd = host_connect(path);
        host_write(fd, "CONNECT 52\n");
        EXPECT_TRUE(device->host_events());
        auto packets = receive(1);
        EXPECT_EQ(packets.size(), 1u);
        port = packets.at(0).header.src_port;
        send(guest_header(op::RESPONSE, 52, port));
        EXPECT_EQ(host_read(fd), "OK " + std::to_string(port) + "\n");
        return fd;
    }
};

TEST_F(VsockTest, IsDevice19WithThreeQueuesAndTheCidInConfig) {
    EXPECT_EQ(device->device_id(), 19u);
    EXPECT_EQ(device->queue_count(), 3u);
    uint64_t cid = 0;
    device->read_config(0, std::span(reinterpret_cast<uint8_t*>(&cid), 8));
    EXPECT_EQ(cid, CID);
}

TEST_F(VsockTest, HostConnectLineBecomesARequestAndTheResponseAnOkLine) {
    const int fd = host_connect(path);
    host_write(fd, "CONNECT 52\nping");
    EXPECT_TRUE(device->host_events());
    auto packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    const Header request = packets[0].header;  // a copy: packets is reassigned below
    EXPECT_EQ(request.op, op::REQUEST);
    EXPECT_EQ(request.src_cid, vsock::HOST_CID);
    EXPECT_EQ(request.dst_cid, CID);
    EXPECT_EQ(request.dst_port, 52u);
    EXPECT_GE(request.src_port, vsock::Muxer::FIRST_HOST_PORT);
    EXPECT_EQ(request.buf_alloc, vsock::Connection::BUFFER_SIZE);
    send(guest_header(op::RESPONSE, 52, request.src_port));
    EXPECT_EQ(host_read(fd), "OK " + std::to_string(request.src_port) + "\n");
    // The bytes after the line were held until now, then go to the guest.
    packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].header.op, op::RW);
    EXPECT_EQ(packets[0].payload, "ping");
    send(guest_header(op::RW, 52, request.src_port), "pong");
    EXPECT_EQ(host_read(fd), "pong");
    ::close(fd);
}

TEST_F(VsockTest, ABadConnectLineClosesTheHostSocket) {
    const int fd = host_connect(path);
    host_write(fd, "HELLO 52\n");
    device->host_events();
    char byte;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0) << "closed";
    EXPECT_TRUE(receive(1).empty());
    ::close(fd);
}

TEST_F(VsockTest, GuestConnectionReachesTheListenerAtPathUnderscorePort) {
    auto listener = UnixListener::bind(path + "_5000", "test").value();
    send(guest_header(op::REQUEST, 1234, 5000));
    EXPECT_EQ(kicks, std::vector<size_t>{Vsock::RXQ});
    auto packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].header.op, op::RESPONSE);
    EXPECT_EQ(packets[0].header.src_port, 5000u);
    EXPECT_EQ(packets[0].header.dst_port, 1234u);
    const int peer = ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    ASSERT_GE(peer, 0);
    send(guest_header(op::RW, 1234, 5000), "from the guest");
    EXPECT_EQ(host_read(peer), "from the guest");
    host_write(peer, "from the host");
    device->host_events();
    packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].payload, "from the host");
    EXPECT_EQ(packets[0].header.fwd_cnt, 14u) << "the credit counts what reached the host";
    ::close(peer);
}

TEST_F(VsockTest, GuestConnectionToAPortWithoutListenerGetsAnRst) {
    send(guest_header(op::REQUEST, 1234, 6000));
    auto packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].header.op, op::RST);
    EXPECT_EQ(packets[0].header.dst_port, 1234u);
    EXPECT_EQ(packets[0].header.src_port, 6000u);
}

TEST_F(VsockTest, HostBytesStopAtTheGuestsCredit) {
    uint32_t port = 0;
    const int fd = established_from_host(port);
    Header small = guest_header(op::CREDIT_UPDATE, 52, port);
    small.buf_alloc = 8;
    send(small);
    host_write(fd, std::string(100, 'x'));
    device->host_events();
    auto packets = receive(4);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].payload, std::string(8, 'x'));
    EXPECT_TRUE(receive(2).empty()) << "no credit, nothing more";
    small.fwd_cnt = 8;  // the guest consumed them
    send(small);
    packets = receive(2);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].payload.size(), 8u);
    ::close(fd);
}

TEST_F(VsockTest, AGuestSendingPastItsCreditIsReset) {
    uint32_t port = 0;
    const int fd = established_from_host(port);
    // The host never reads: the socket fills, then Ember holds up to the credit it gave.
    const std::string chunk(60000, 'g');
    bool reset = false;
    for (int i = 0; i < 200 && !reset; ++i) {
        send(guest_header(op::RW, 52, port), chunk);
        for (const auto& p : receive(2))
            reset = reset || p.header.op == op::RST;
    }
    EXPECT_TRUE(reset);
    ::close(fd);
}

TEST_F(VsockTest, FullShutdownFromTheGuestIsAnsweredWithRstAndEndsTheHostStream) {
    uint32_t port = 0;
    const int fd = established_from_host(port);
    Header shutdown = guest_header(op::SHUTDOWN, 52, port);
    shutdown.flags = vsock::SHUTDOWN_BOTH;
    send(shutdown);
    auto packets = receive(1);
    ASSERT_EQ(packets.size(), 1u);
    EXPECT_EQ(packets[0].header.op, op::RST);
    char byte;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);
    ::close(fd);
}

TEST_F(VsockTest, HostCloseReachesTheGuestAsShutdown) {
    uint32_t port = 0;
    const int fd = established_from_host(port);
    host_write(fd, "last");
    ::close(fd);
    device->host_events();
    auto packets = receive(4);
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[0].payload, "last");
    EXPECT_EQ(packets[1].header.op, op::SHUTDOWN);
    EXPECT_EQ(packets[1].header.flags, vsock::SHUTDOWN_BOTH);
    send(guest_header(op::RST, 52, port));
    EXPECT_TRUE(receive(1).empty());
}

TEST_F(VsockTest, PacketsOfNoConnectionGetRstAndForeignOnesAreDropped) {
    send(guest_header(op::RW, 1, 2), "x");
    Header foreign = guest_header(op::REQUEST, 1, 2);
    foreign.src_cid = 9;
    send(foreign);
    Header other_cid = guest_header(op::REQUEST, 1, 2);
    other_cid.dst_cid = 7;
    send(other_cid);
    auto packets = receive(4);
    ASSERT_EQ(packets.size(), 2u);
    EXPECT_EQ(packets[0].header.op, op::RST);
    EXPECT_EQ(packets[1].header.op, op::RST);
    EXPECT_EQ(packets[1].header.src_cid, 7u) << "the RST comes from the CID the guest named";
}

TEST_F(VsockTest, TransmitWaitsWhileItsAnswersCannotBeHeld) {
    // No receive buffers: after MAX_RESETS unanswered packets the queue waits, nothing dropped.
    for (size_t i = 0; i < vsock::Muxer::MAX_RESETS; ++i)
        send(guest_header(op::RW, 1, 2), "x");
    EXPECT_EQ(tx_ring.used_idx(), vsock::Muxer::MAX_RESETS);
    send(guest_header(op::RW, 1, 2), "x");
    EXPECT_EQ(tx_ring.used_idx(), vsock::Muxer::MAX_RESETS) << "the packet waits";
    kicks.clear();
    EXPECT_EQ(receive(4).size(), 4u);
    EXPECT_NE(std::find(kicks.begin(), kicks.end(), Vsock::TXQ), kicks.end()) << "room again: transmit resumes";
}

TEST_F(VsockTest, AReceiveBufferSmallerThanAHeaderIsADriverError) {
    send(guest_header(op::REQUEST, 1234, 6000));
    rx_ring.add({{alloc(16), 16}}, true);
    auto result = device->process_queue(Vsock::RXQ, *rxq);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind(), ErrorKind::GuestFault);
}

TEST_F(VsockTest, ResetClosesEveryStream) {
    uint32_t port = 0;
    const int fd = established_from_host(port);
    device->reset();
    char byte;
    EXPECT_EQ(::recv(fd, &byte, 1, 0), 0);
    ::close(fd);
}

TEST_F(VsockTest, AnAnnouncedTransportResetFillsTheNextEventBufferOnce) {
    Ring event_ring{memory, 0x30000};
    auto eventq = Virtqueue::create(memory, event_ring.layout(), false, false).value();
    const uint64_t first = alloc(8), second = alloc(8);
    (void)memory.store<uint32_t>(first, 0xffffffff);
    event_ring.add({{first, 8}}, true);
    ASSERT_TRUE(device->process_queue(Vsock::EVENTQ, eventq).ok());
    EXPECT_EQ(event_ring.used_idx(), 0) << "no event before one is announced";
    device->announce_transport_reset();
    ASSERT_TRUE(device->process_queue(Vsock::EVENTQ, eventq).ok());
    ASSERT_EQ(event_ring.used_idx(), 1);
    EXPECT_EQ(event_ring.used_len(0), 4u);
    EXPECT_EQ(memory.load<uint32_t>(first).value(), 0u) << "VIRTIO_VSOCK_EVENT_TRANSPORT_RESET";
    event_ring.add({{second, 8}}, true);
    ASSERT_TRUE(device->process_queue(Vsock::EVENTQ, eventq).ok());
    EXPECT_EQ(event_ring.used_idx(), 1) << "one reset, one event";
}

TEST_F(VsockTest, AnEventBufferTooSmallForAnEventIsADriverError) {
    Ring event_ring{memory, 0x30000};
    auto eventq = Virtqueue::create(memory, event_ring.layout(), false, false).value();
    event_ring.add({{alloc(2), 2}}, true);
    device->announce_transport_reset();
    auto result = device->process_queue(Vsock::EVENTQ, eventq);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.error().kind(), ErrorKind::GuestFault);
}

TEST_F(VsockTest, TheSocketPathGoesWithTheDevice) {
    device.reset();
    EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST(VsockPacketTest, CheckTxSortsHeaders) {
    Header h{};
    h.src_cid = CID;
    h.dst_cid = vsock::HOST_CID;
    h.type = vsock::TYPE_STREAM;
    h.op = op::RW;
    h.len = 10;
    EXPECT_EQ(vsock::check_tx(h, CID, 10), vsock::TxVerdict::Accept);
    EXPECT_EQ(vsock::check_tx(h, CID, 9), vsock::TxVerdict::Reset) << "len past the chain";
    h.len = vsock::MAX_PAYLOAD + 1;
    EXPECT_EQ(vsock::check_tx(h, CID, UINT32_MAX), vsock::TxVerdict::Reset);
    h.len = 0;
    h.type = 2;  // SEQPACKET, not offered
    EXPECT_EQ(vsock::check_tx(h, CID, 0), vsock::TxVerdict::Reset);
    h.op = op::RST;
    EXPECT_EQ(vsock::check_tx(h, CID, 0), vsock::TxVerdict::Drop) << "an RST is never answered";
    h.type = vsock::TYPE_STREAM;
    h.op = 99;
    EXPECT_EQ(vsock::check_tx(h, CID, 0), vsock::TxVerdict::Reset);
    h.op = op::REQUEST;
    h.src_cid = 4;
    EXPECT_EQ(vsock::check_tx(h, CID, 0), vsock::TxVerdict::Drop);
}

}  // namespace
}  // namespace vmm::virtio
