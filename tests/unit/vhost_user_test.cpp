#include "devices/virtio/vhost_user.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "devices/virtio/fs.h"
#include "devices/virtio/virtio.h"

namespace vmm::virtio {
namespace {

using Frontend = VhostUserFrontend;

// One message as a backend receives it.
struct Message {
    uint32_t request = 0, flags = 0;
    std::vector<uint8_t> payload;
    int fds = 0;
};

// A backend in a thread on the other end of a socketpair: records every message and answers
// through `reply` (no bytes: no answer).
class FakeVhostBackend {
public:
    using Reply = std::function<std::vector<uint8_t>(const Message&)>;

    explicit FakeVhostBackend(Reply reply) : m_reply(std::move(reply)) {
        int pair[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
        m_frontend_end.reset(pair[0]);
        m_end.reset(pair[1]);
        m_thread = std::thread([this] { serve(); });
    }
    ~FakeVhostBackend() { close(); }
    UniqueFd take_frontend_end() { return std::move(m_frontend_end); }
    // Hangs up and waits for the thread: `messages` is complete from then on.
    void close() {
        ::shutdown(m_end.get(), SHUT_RDWR);
        if (m_thread.joinable())
            m_thread.join();
    }
    std::vector<Message> messages;

private:
    void serve() {
        for (;;) {
            uint32_t header[3];
            alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int) * 8)];
            iovec part{header, sizeof header};
            msghdr m{};
            m.msg_iov = &part;
            m.msg_iovlen = 1;
            m.msg_control = control;
            m.msg_controllen = sizeof control;
            if (::recvmsg(m_end.get(), &m, MSG_WAITALL) != sizeof header)
                return;
            Message got{header[0], header[1], std::vector<uint8_t>(header[2]), 0};
            for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
                got.fds = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < got.fds; ++i) {
                    int fd;
                    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                    ::close(fd);
                }
            }
            if (!got.payload.empty() &&
                ::recv(m_end.get(), got.payload.data(), got.payload.size(), MSG_WAITALL) != ssize_t(got.payload.size()))
                return;
            messages.push_back(got);
            const std::vector<uint8_t> answer = m_reply(got);
            if (!answer.empty() && ::send(m_end.get(), answer.data(), answer.size(), MSG_NOSIGNAL) < 0)
                return;
        }
    }

    Reply m_reply;
    UniqueFd m_frontend_end, m_end;
    std::thread m_thread;
};

std::vector<uint8_t> reply(uint32_t request, uint64_t value, uint32_t size = 8) {
    std::vector<uint8_t> bytes(12 + size);
    const uint32_t header[3] = {request, 0x1 | 0x4, size};
    std::memcpy(bytes.data(), header, sizeof header);
    std::memcpy(bytes.data() + 12, &value, std::min<size_t>(size, 8));
    return bytes;
}

constexpr uint64_t FS_FEATURES = feature::VERSION_1 | feature::RING_EVENT_IDX | Frontend::F_PROTOCOL_FEATURES;

// What virtiofsd answers: its features, MQ and REPLY_ACK, two queues, and acks when asked.
std::vector<uint8_t> virtiofsd_like(const Message& m) {
    switch (m.request) {
    case Frontend::GET_FEATURES: return reply(m.request, FS_FEATURES);
    case Frontend::GET_PROTOCOL_FEATURES: return reply(m.request, 0x8c2b);
    case Frontend::GET_QUEUE_NUM: return reply(m.request, 2);
    case Frontend::GET_VRING_BASE: return reply(m.request, 0, 8);
    default: return (m.flags & 0x8) ? reply(m.request, 0) : std::vector<uint8_t>{};
    }
}

TEST(VhostUserFrontend, HandshakeNegotiatesProtocolFeaturesAndQueueCount) {
    FakeVhostBackend backend(virtiofsd_like);
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake");
    ASSERT_TRUE(frontend.ok()) << frontend.error().message();
    EXPECT_EQ(frontend->features(), FS_FEATURES & ~Frontend::F_PROTOCOL_FEATURES);
    EXPECT_EQ(frontend->max_queues(), 2u);
    backend.close();
    std::vector<uint32_t> requests;
    for (const auto& m : backend.messages)
        requests.push_back(m.request);
    EXPECT_EQ(requests, (std::vector<uint32_t>{Frontend::GET_FEATURES, Frontend::GET_PROTOCOL_FEATURES,
                                               Frontend::SET_PROTOCOL_FEATURES, Frontend::GET_QUEUE_NUM,
                                               Frontend::SET_OWNER}));
    uint64_t acked = 0;
    std::memcpy(&acked, backend.messages[2].payload.data(), 8);
    EXPECT_EQ(acked, Frontend::PROTOCOL_F_MQ | Frontend::PROTOCOL_F_REPLY_ACK);
    EXPECT_EQ(backend.messages[2].flags & 0x8, 0u) << "REPLY_ACK applies only once negotiated";
    EXPECT_EQ(backend.messages[4].flags & 0x8, 0x8u) << "SET_OWNER asks for an ack";
}

TEST(VhostUserFrontend, StartSendsTheMemoryTableWithItsFdsAndEachRing) {
    FakeVhostBackend backend(virtiofsd_like);
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake").value();
    const MemoryRegionSpec spec{0, 1 << 20};
    auto memory = GuestMemory::create(std::span(&spec, 1), {.backing = MemoryBacking::Shared}).value();
    UniqueFd kick(::eventfd(0, EFD_CLOEXEC)), call(::eventfd(0, EFD_CLOEXEC));
    const Frontend::Ring ring{1, {16, 0x1000, 0x2000, 0x3000}, kick.get(), call.get()};
    ASSERT_TRUE(frontend.start(feature::VERSION_1, memory, std::span(&ring, 1)).ok());
    backend.close();
    const size_t first = 5;  // after the handshake
    ASSERT_EQ(backend.messages.size(), first + 8);
    const Message& table = backend.messages[first + 1];
    EXPECT_EQ(table.request, Frontend::SET_MEM_TABLE);
    EXPECT_EQ(table.fds, 1);
    ASSERT_EQ(table.payload.size(), 8u + 32u);
    uint64_t entry[4];
    std::memcpy(entry, table.payload.data() + 8, sizeof entry);
    EXPECT_EQ(entry[0], 0u);
    EXPECT_EQ(entry[1], 1u << 20);
    EXPECT_EQ(entry[2], reinterpret_cast<uint64_t>(memory.regions()[0].host));
    const Message& address = backend.messages[first + 4];
    EXPECT_EQ(address.request, Frontend::SET_VRING_ADDR);
    uint64_t rings[3];
    std::memcpy(rings, address.payload.data() + 8, sizeof rings);  // descriptors, used, available
    EXPECT_EQ(rings[0], reinterpret_cast<uint64_t>(memory.regions()[0].host) + 0x1000);
    EXPECT_EQ(rings[1], reinterpret_cast<uint64_t>(memory.regions()[0].host) + 0x3000);
    EXPECT_EQ(rings[2], reinterpret_cast<uint64_t>(memory.regions()[0].host) + 0x2000);
    EXPECT_EQ(backend.messages[first + 5].fds, 1);  // SET_VRING_CALL
    EXPECT_EQ(backend.messages[first + 6].fds, 1);  // SET_VRING_KICK
    EXPECT_EQ(backend.messages[first + 7].request, Frontend::SET_VRING_ENABLE);
}

TEST(VhostUserFrontend, PrivateGuestMemoryIsRefused) {
    FakeVhostBackend backend(virtiofsd_like);
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake").value();
    const MemoryRegionSpec spec{0, 1 << 20};
    auto memory = GuestMemory::create(std::span(&spec, 1)).value();
    EXPECT_FALSE(frontend.start(feature::VERSION_1, memory, {}).ok());
}

TEST(VhostUserFrontend, RingOutsideGuestMemoryIsRefused) {
    FakeVhostBackend backend(virtiofsd_like);
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake").value();
    const MemoryRegionSpec spec{0, 1 << 20};
    auto memory = GuestMemory::create(std::span(&spec, 1), {.backing = MemoryBacking::Shared}).value();
    const Frontend::Ring ring{0, {16, 0x1000, 0x2000, (1 << 20) - 8}, 0, 0};
    EXPECT_FALSE(frontend.start(feature::VERSION_1, memory, std::span(&ring, 1)).ok());
}

TEST(VhostUserFrontend, RefusedAckIsAnError) {
    FakeVhostBackend backend([](const Message& m) {
        return m.request == Frontend::SET_OWNER ? reply(m.request, 1) : virtiofsd_like(m);
    });
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake");
    ASSERT_FALSE(frontend.ok());
    EXPECT_NE(frontend.error().message().find("refused request 3"), std::string::npos) << frontend.error().message();
}

TEST(VhostUserFrontend, ReplyToAnotherRequestIsMalformed) {
    FakeVhostBackend backend([](const Message& m) { return reply(m.request + 1, 0); });
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake");
    ASSERT_FALSE(frontend.ok());
    EXPECT_NE(frontend.error().message().find("malformed reply"), std::string::npos);
}

TEST(VhostUserFrontend, BackendThatClosesIsAnErrorNotAHang) {
    FakeVhostBackend backend([](const Message&) { return std::vector<uint8_t>{}; });
    backend.close();
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake");
    ASSERT_FALSE(frontend.ok());
}

TEST(VhostUserFrontend, BackendWithoutProtocolFeaturesGetsNoEnable) {
    FakeVhostBackend backend([](const Message& m) {
        return m.request == Frontend::GET_FEATURES ? reply(m.request, feature::VERSION_1) : std::vector<uint8_t>{};
    });
    auto frontend = Frontend::adopt(backend.take_frontend_end(), "fake").value();
    EXPECT_EQ(frontend.max_queues(), UINT32_MAX);
    const MemoryRegionSpec spec{0, 1 << 20};
    auto memory = GuestMemory::create(std::span(&spec, 1), {.backing = MemoryBacking::Shared}).value();
    const Frontend::Ring ring{0, {16, 0x1000, 0x2000, 0x3000}, 0, 0};
    ASSERT_TRUE(frontend.start(feature::VERSION_1, memory, std::span(&ring, 1)).ok());
    backend.close();
    for (const auto& m : backend.messages) {
        EXPECT_NE(m.request, Frontend::SET_VRING_ENABLE);
        EXPECT_EQ(m.flags & 0x8, 0u);
    }
}

// virtio-fs on a virtiofsd-like backend, both rings started; `gets` counts one request.
struct StartedFs {
    StartedFs() {
        const MemoryRegionSpec spec{0, 1 << 20};
        memory.emplace(GuestMemory::create(std::span(&spec, 1), {.backing = MemoryBacking::Shared}).value());
        fs = Fs::create(*memory, "share", Frontend::adopt(backend.take_frontend_end(), "fake").value()).value();
        const ExternalRings::Queue ready[] = {{0, {16, 0x1000, 0x2000, 0x3000}}, {1, {16, 0x4000, 0x5000, 0x6000}}};
        EXPECT_TRUE(fs->external_rings()->start(feature::VERSION_1, ready).ok());
    }
    size_t gets(uint32_t request) {
        backend.close();
        return std::count_if(backend.messages.begin(), backend.messages.end(),
                             [&](const Message& m) { return m.request == request; });
    }
    FakeVhostBackend backend{virtiofsd_like};
    std::optional<GuestMemory> memory;
    std::unique_ptr<Fs> fs;
};

TEST(VirtioFs, ResetStopsEveryStartedRing) {
    StartedFs started;
    started.fs->reset();
    EXPECT_EQ(started.gets(Frontend::GET_VRING_BASE), 2u);
}

TEST(VirtioFs, BackendThatHungUpGetsNoRequestsAndCannotStartAgain) {
    StartedFs started;
    started.fs->backend_closed();
    started.fs->reset();
    const ExternalRings::Queue ready[] = {{0, {16, 0x1000, 0x2000, 0x3000}}};
    auto again = started.fs->external_rings()->start(feature::VERSION_1, ready);
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.error().message().find("vhost-user backend fake is gone"), std::string::npos);
    EXPECT_EQ(started.gets(Frontend::GET_VRING_BASE), 0u);
    EXPECT_EQ(started.gets(Frontend::SET_FEATURES), 1u);
}

}  // namespace
}  // namespace vmm::virtio
