#include "devices/virtio/vhost_user.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "base/unix_address.h"

namespace vmm::virtio {

namespace {

constexpr uint32_t VERSION = 0x1;
constexpr uint32_t FLAG_REPLY = 1u << 2;
constexpr uint32_t FLAG_NEED_REPLY = 1u << 3;
constexpr size_t MAX_FDS = VhostUserFrontend::MAX_REGIONS;

// vhost-user.rst "Message Specification": the header, then `size` bytes of payload.
struct [[gnu::packed]] Header {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
};
static_assert(sizeof(Header) == 12);

struct [[gnu::packed]] VringState {
    uint32_t index;
    uint32_t num;
};
static_assert(sizeof(VringState) == 8);

struct [[gnu::packed]] VringAddress {
    uint32_t index;
    uint32_t flags;
    uint64_t descriptors;
    uint64_t used;
    uint64_t available;
    uint64_t log;
};
static_assert(sizeof(VringAddress) == 40);

struct [[gnu::packed]] MemoryRegionEntry {
    uint64_t guest_address;
    uint64_t size;
    uint64_t user_address;
    uint64_t mmap_offset;
};
static_assert(sizeof(MemoryRegionEntry) == 32);

template <typename T>
std::span<const uint8_t> bytes_of(const T& value) {
    return {reinterpret_cast<const uint8_t*>(&value), sizeof(T)};
}

Status set_timeouts(int fd, const std::string& name) {
    const timeval limit{VhostUserFrontend::REPLY_TIMEOUT_SECONDS, 0};
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0)
        return Error::from_errno(fmt::format("vhost-user backend {}: setting socket timeouts", name));
    return {};
}

// Host addresses of a ring's three parts (VIRTIO 1.2 §2.7: 16, 6 + 2n and 6 + 8n bytes).
Result<std::array<uint64_t, 3>> ring_addresses(const GuestMemory& memory, const QueueLayout& l) {
    auto host = [&](uint64_t gpa, uint64_t len) -> Result<uint64_t> {
        return reinterpret_cast<uint64_t>(TRY(memory.slice(gpa, len)).data());
    };
    return std::array<uint64_t, 3>{TRY(host(l.desc_table, 16ull * l.size)), TRY(host(l.avail_ring, 6 + 2ull * l.size)),
                                   TRY(host(l.used_ring, 6 + 8ull * l.size))};
}

}  // namespace

Result<VhostUserFrontend> VhostUserFrontend::connect(const std::string& path) {
    const auto address = unix_address(path);
    if (!address)
        return Error(ErrorKind::InvalidInput, fmt::format("vhost-user socket path '{}' is empty or too long", path));
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno("socket for vhost-user");
    if (::connect(fd.get(), as_sockaddr(*address), sizeof *address) != 0)
        return Error::from_errno(fmt::format("connecting to the vhost-user backend at {}", path));
    return adopt(std::move(fd), path);
}

Result<VhostUserFrontend> VhostUserFrontend::adopt(UniqueFd socket, std::string name) {
    TRY(set_timeouts(socket.get(), name));
    VhostUserFrontend frontend(std::move(socket), std::move(name));
    TRY(frontend.handshake());
    return frontend;
}

Status VhostUserFrontend::handshake() {
    m_features = TRY(get_u64(GET_FEATURES));
    if (m_features & F_PROTOCOL_FEATURES) {
        const uint64_t offered = TRY(get_u64(GET_PROTOCOL_FEATURES));
        const uint64_t wanted = offered & (PROTOCOL_F_MQ | PROTOCOL_F_REPLY_ACK);
        TRY(set_u64(SET_PROTOCOL_FEATURES, wanted));  // acknowledged only from here on
        m_protocol_features = wanted;
        if (wanted & PROTOCOL_F_MQ)
            m_max_queues = static_cast<uint32_t>(TRY(get_u64(GET_QUEUE_NUM)));
    }
    return send(SET_OWNER, {});
}

Status VhostUserFrontend::start(uint64_t features, const GuestMemory& memory, std::span<const Ring> rings) {
    // Rings start disabled once the protocol-features bit is negotiated (SET_VRING_ENABLE).
    const bool enable = m_features & F_PROTOCOL_FEATURES;
    TRY(set_u64(SET_FEATURES, features | (enable ? F_PROTOCOL_FEATURES : 0)));

    const auto& regions = memory.regions();
    if (memory.shared_fd() < 0 || regions.size() > MAX_REGIONS)
        return Error(ErrorKind::Internal, "vhost-user needs shared guest memory of at most 8 regions");
    std::vector<uint8_t> table(8 + regions.size() * sizeof(MemoryRegionEntry), 0);
    const uint32_t count = static_cast<uint32_t>(regions.size());
    std::memcpy(table.data(), &count, sizeof count);
    std::vector<int> fds;
    for (size_t i = 0; i < regions.size(); ++i) {
        const MemoryRegionEntry entry{regions[i].gpa, regions[i].size, reinterpret_cast<uint64_t>(regions[i].host),
                                      regions[i].fd_offset};
        std::memcpy(table.data() + 8 + i * sizeof entry, &entry, sizeof entry);
        fds.push_back(memory.shared_fd());
    }
    TRY(send(SET_MEM_TABLE, table, fds));

    for (const Ring& ring : rings) {
        const auto host = TRY(ring_addresses(memory, ring.layout));
        TRY(send(SET_VRING_NUM, bytes_of(VringState{ring.index, ring.layout.size})));
        TRY(send(SET_VRING_BASE, bytes_of(VringState{ring.index, 0})));
        TRY(send(SET_VRING_ADDR, bytes_of(VringAddress{ring.index, 0, host[0], host[2], host[1], 0})));
        TRY(set_u64(SET_VRING_CALL, ring.index, std::span(&ring.call, 1)));
        TRY(set_u64(SET_VRING_KICK, ring.index, std::span(&ring.kick, 1)));
        if (enable)
            TRY(send(SET_VRING_ENABLE, bytes_of(VringState{ring.index, 1})));
    }
    return {};
}

Status VhostUserFrontend::stop_ring(uint32_t index) {
    VringState state{};
    return ask(GET_VRING_BASE, bytes_of(VringState{index, 0}),
               {reinterpret_cast<uint8_t*>(&state), sizeof state});
}

Result<uint64_t> VhostUserFrontend::get_u64(Request request) {
    uint64_t value = 0;
    TRY(ask(request, {}, {reinterpret_cast<uint8_t*>(&value), sizeof value}));
    return value;
}

Status VhostUserFrontend::set_u64(Request request, uint64_t value, std::span<const int> fds) {
    return send(request, bytes_of(value), fds);
}

Status VhostUserFrontend::send(Request request, std::span<const uint8_t> payload, std::span<const int> fds, bool ack) {
    const bool need_reply = ack && (m_protocol_features & PROTOCOL_F_REPLY_ACK);
    const Header header{request, VERSION | (need_reply ? FLAG_NEED_REPLY : 0), static_cast<uint32_t>(payload.size())};
    iovec parts[2] = {{const_cast<Header*>(&header), sizeof header},
                      {const_cast<uint8_t*>(payload.data()), payload.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = payload.empty() ? 1 : 2;
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(int) * MAX_FDS)] = {};
    if (!fds.empty()) {
        if (fds.size() > MAX_FDS)
            return Error(ErrorKind::Internal, "vhost-user: too many fds for one message");
        message.msg_control = control;
        message.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
        cmsghdr* c = CMSG_FIRSTHDR(&message);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
        std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t sent = ::sendmsg(m_socket.get(), &message, MSG_NOSIGNAL);
    if (sent != static_cast<ssize_t>(sizeof header + payload.size()))
        return sent < 0 ? Error::from_errno(fmt::format("vhost-user backend {}: sending request {}", m_name, uint32_t(request)))
                        : Error(fmt::format("vhost-user backend {}: request {} sent short", m_name, uint32_t(request)));
    if (!need_reply)
        return {};
    uint64_t status = 0;
    TRY(receive_reply(request, {reinterpret_cast<uint8_t*>(&status), sizeof status}));
    if (status != 0)
        return Error(fmt::format("vhost-user backend {} refused request {} (status {})", m_name, uint32_t(request), status));
    return {};
}

Status VhostUserFrontend::ask(Request request, std::span<const uint8_t> payload, std::span<uint8_t> reply) {
    TRY(send(request, payload, {}, false));
    return receive_reply(request, reply);
}

// A reply is checked like guest input: it must answer this request with exactly the payload
// size the request has, or the connection is out of step and unusable.
Status VhostUserFrontend::receive_reply(Request request, std::span<uint8_t> reply) {
    Header header{};
    iovec parts[2] = {{&header, sizeof header}, {reply.data(), reply.size()}};
    msghdr message{};
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    const ssize_t got = ::recvmsg(m_socket.get(), &message, MSG_WAITALL | MSG_CMSG_CLOEXEC);
    if (got < 0)
        return Error::from_errno(errno == EAGAIN ? fmt::format("vhost-user backend {}: no reply to request {} in {} s", m_name,
                                                               uint32_t(request), REPLY_TIMEOUT_SECONDS)
                                                 : fmt::format("vhost-user backend {}: reading the reply to request {}",
                                                               m_name, uint32_t(request)));
    if (got == 0)
        return Error(fmt::format("vhost-user backend {} closed the connection", m_name));
    if (static_cast<size_t>(got) != sizeof header + reply.size() || header.request != request ||
        !(header.flags & FLAG_REPLY) || (header.flags & 0x3) != VERSION || header.size != reply.size())
        return Error(fmt::format("vhost-user backend {}: malformed reply to request {}", m_name, uint32_t(request)));
    return {};
}

}  // namespace vmm::virtio
