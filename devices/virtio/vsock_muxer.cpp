#include "devices/virtio/vsock_muxer.h"

#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <string_view>

#include <fmt/format.h>

#include "devices/virtio/chain_io.h"
#include "base/unix_address.h"

namespace vmm::virtio::vsock {

namespace {

constexpr uint32_t STREAM_EVENTS = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
constexpr uint32_t ENDED = EPOLLHUP | EPOLLERR;

// "CONNECT <port>" (the newline already cut off): the port, or nullopt.
std::optional<uint32_t> parse_connect(std::string_view line) {
    constexpr std::string_view PREFIX = "CONNECT ";
    if (!line.starts_with(PREFIX))
        return std::nullopt;
    line.remove_prefix(PREFIX.size());
    uint32_t port = 0;
    auto [end, err] = std::from_chars(line.data(), line.data() + line.size(), port);
    if (err != std::errc() || end != line.data() + line.size() || line.empty())
        return std::nullopt;
    return port;
}

bool add_to_epoll(int epoll, int fd, uint32_t events, uint64_t token) {
    epoll_event event{};
    event.events = events;
    event.data.u64 = token;
    return ::epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

}  // namespace

Result<std::unique_ptr<Muxer>> Muxer::create(uint64_t guest_cid, UnixListener listener) {
    UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll.valid())
        return Error::from_errno("vsock: epoll_create1");
    // Level-triggered: connections beyond what one call accepts wake the loop again.
    if (!add_to_epoll(epoll.get(), listener.fd(), EPOLLIN, 0))
        return Error::from_errno("vsock: epoll_ctl for the listening socket");
    return std::unique_ptr<Muxer>(new Muxer(guest_cid, std::move(listener), std::move(epoll)));
}

Connection* Muxer::find(uint64_t k) {
    auto it = m_by_key.find(k);
    return it == m_by_key.end() ? nullptr : m_by_token.at(it->second).get();
}

Connection* Muxer::add(UniqueFd socket, Connection::State state) {
    const uint64_t token = m_next_token++;
    if (!add_to_epoll(m_epoll.get(), socket.get(), STREAM_EVENTS, token))
        return nullptr;
    auto conn = std::make_unique<Connection>(std::move(socket), state, token);
    Connection* raw = conn.get();
    m_by_token.emplace(token, std::move(conn));
    ++m_stats.connections;
    return raw;
}

void Muxer::remove(Connection& conn) {
    if (conn.state() != Connection::State::AwaitingConnect)
        m_by_key.erase(key(conn.host_port, conn.guest_port));
    m_by_token.erase(conn.token());  // closes the socket, which leaves the epoll set
}

void Muxer::kill(Connection& conn) {
    conn.close_socket();
    conn.host_readable = false;
    conn.pending = Connection::SEND_RST;
    ++m_stats.resets;
    enqueue(conn);
}

void Muxer::enqueue(Connection& conn) {
    if (!conn.queued && (conn.pending || conn.has_data_for_guest())) {
        conn.queued = true;
        m_ready.push_back(conn.token());
    }
}

void Muxer::host_events() {
    epoll_event events[EVENTS_PER_CALL];
    const int n = ::epoll_wait(m_epoll.get(), events, EVENTS_PER_CALL, 0);
    for (int i = 0; i < n; ++i) {
        const uint64_t token = events[i].data.u64;  // a copy: epoll_event is packed on x86-64
        if (token == 0) {
            accept_host();
            continue;
        }
        auto it = m_by_token.find(token);
        if (it != m_by_token.end())
            host_event(*it->second, events[i].events);
    }
}

void Muxer::accept_host() {
    for (size_t i = 0; i < 16; ++i) {
        UniqueFd socket(::accept4(m_listener.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
        if (!socket.valid())
            return;
        // Over the limit the host's connection is closed at once (it sees the stream end).
        Connection* conn = nullptr;
        if (m_by_token.size() < MAX_CONNECTIONS)
            conn = add(std::move(socket), Connection::State::AwaitingConnect);
        if (!conn) {
            ++m_stats.refused;
            continue;
        }
        read_connect_line(*conn);  // the line may be there already
    }
}

void Muxer::host_event(Connection& conn, uint32_t events) {
    if (conn.state() == Connection::State::AwaitingConnect) {
        read_connect_line(conn);
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | ENDED))
        conn.host_readable = true;
    if (events & ENDED)
        conn.host_hung_up = true;
    if (conn.state() == Connection::State::Connecting && (events & ENDED)) {
        kill(conn);  // the host gave up before the guest answered
        return;
    }
    if ((events & EPOLLOUT) && !conn.all_sent()) {
        if (!conn.flush().ok()) {
            kill(conn);
            return;
        }
        after_sent(conn);
    }
    if (conn.credit_update_due())
        conn.pending |= Connection::SEND_CREDIT_UPDATE;
    enqueue(conn);
}

void Muxer::read_connect_line(Connection& conn) {
    char line[MAX_CONNECT_LINE];
    const ssize_t n = ::recv(conn.fd(), line, sizeof line, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && errno == EAGAIN)
        return;
    const char* end = n > 0 ? std::find(line, line + n, '\n') : line;
    if (n > 0 && end == line + n && static_cast<size_t>(n) < sizeof line)
        return;  // not the whole line yet: the next bytes wake us again
    std::optional<uint32_t> port;
    if (n > 0 && end != line + n && ::recv(conn.fd(), line, static_cast<size_t>(end - line + 1), MSG_DONTWAIT) == end - line + 1)
        port = parse_connect(std::string_view(line, static_cast<size_t>(end - line)));
    if (!port) {  // ended, failed, too long or not a CONNECT line: closed, as Firecracker does
        ++m_stats.refused;
        remove(conn);
        return;
    }
    conn.host_port = allocate_host_port();
    conn.guest_port = *port;
    conn.set_state(Connection::State::Connecting);
    m_by_key.emplace(key(conn.host_port, conn.guest_port), conn.token());
    conn.host_readable = true;  // bytes may follow the line; they wait for the RESPONSE
    conn.pending = Connection::SEND_REQUEST;
    enqueue(conn);
}

uint32_t Muxer::allocate_host_port() {
    for (;;) {
        const uint32_t port = m_next_port;
        m_next_port = m_next_port == UINT32_MAX ? FIRST_HOST_PORT : m_next_port + 1;
        auto it = m_by_key.lower_bound(key(port, 0));
        if (it == m_by_key.end() || it->first >> 32 != port)
            return port;  // at most MAX_CONNECTIONS ports are taken
    }
}

void Muxer::answer_reset(const Header& header) {
    if (m_resets.size() < MAX_RESETS) {
        Header rst = reply_to(header, op::RST);
        m_resets.push_back(rst);
        ++m_stats.resets;
    }
}

void Muxer::connect_to_host(const Header& request) {
    const auto address = unix_address(fmt::format("{}_{}", m_listener.path(), request.dst_port));
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    Connection* conn = nullptr;
    if (m_by_token.size() < MAX_CONNECTIONS && address && socket.valid() &&
        ::connect(socket.get(), as_sockaddr(*address), sizeof *address) == 0)
        conn = add(std::move(socket), Connection::State::Established);
    if (!conn) {  // no listener there, its backlog full, or Ember out of room: refused
        ++m_stats.refused;
        answer_reset(request);
        return;
    }
    conn->host_port = request.dst_port;
    conn->guest_port = request.src_port;
    conn->peer_credit_from(request);
    m_by_key.emplace(key(conn->host_port, conn->guest_port), conn->token());
    conn->pending = Connection::SEND_RESPONSE;
    enqueue(*conn);
}

void Muxer::from_guest(GuestMemory& memory, const Header& header, std::span<const Buffer> readable) {
    Connection* conn = find(key(header.dst_port, header.src_port));
    if (!conn) {
        if (header.op == op::REQUEST)
            connect_to_host(header);
        else if (header.op != op::RST)
            answer_reset(header);  // §5.10.6.3: a packet of no connection
        return;
    }
    if (conn->pending & Connection::SEND_RST)
        return;  // already broken: the RST on its way ends it
    conn->peer_credit_from(header);
    stream_from_guest(*conn, memory, header, readable);
}

void Muxer::stream_from_guest(Connection& conn, GuestMemory& memory, const Header& header,
                              std::span<const Buffer> readable) {
    using State = Connection::State;
    switch (header.op) {
    case op::RST:
        remove(conn);
        return;
    case op::RESPONSE: {
        if (conn.state() != State::Connecting)
            return kill(conn);
        const std::string ok = fmt::format("OK {}\n", conn.host_port);
        if (::send(conn.fd(), ok.data(), ok.size(), MSG_NOSIGNAL | MSG_DONTWAIT) != static_cast<ssize_t>(ok.size()))
            return kill(conn);
        conn.set_state(State::Established);
        break;
    }
    case op::RW: {
        if (conn.state() != State::Established || (conn.guest_shutdown & SHUTDOWN_SEND))
            return kill(conn);
        m_iovecs.clear();
        if (!buffer_iovecs(memory, readable, HEADER_SIZE, header.len, m_iovecs).ok() ||
            !conn.from_guest(m_iovecs, header.len).ok())
            return kill(conn);
        m_stats.from_guest_bytes += header.len;
        after_sent(conn);
        break;
    }
    case op::SHUTDOWN:
        conn.guest_shutdown |= header.flags & SHUTDOWN_BOTH;
        after_sent(conn);
        break;
    case op::CREDIT_REQUEST:
        conn.pending |= Connection::SEND_CREDIT_UPDATE;
        break;
    case op::CREDIT_UPDATE:
        break;  // the credit came with the header
    default:    // REQUEST on a stream that exists: the guest reused a port
        return kill(conn);
    }
    if (conn.credit_update_due())
        conn.pending |= Connection::SEND_CREDIT_UPDATE;
    enqueue(conn);
}

// Once the socket took everything: the guest's SHUTDOWN of its sending side reaches the host
// as the end of the stream, and a full SHUTDOWN is answered with the RST that closes it.
void Muxer::after_sent(Connection& conn) {
    if (!conn.all_sent() || conn.pending & Connection::SEND_RST)
        return;
    if (conn.guest_shutdown & SHUTDOWN_SEND)
        ::shutdown(conn.fd(), SHUT_WR);
    if (conn.guest_shutdown == SHUTDOWN_BOTH) {
        conn.close_socket();
        conn.host_readable = false;
        conn.pending = Connection::SEND_RST;
    }
}

Result<uint32_t> Muxer::to_guest(GuestMemory& memory, const DescriptorChain& chain) {
    if (!m_resets.empty()) {
        const Header rst = m_resets.front();
        TRY(write_buffers(memory, chain.writable, 0, std::span(reinterpret_cast<const uint8_t*>(&rst), HEADER_SIZE)));
        m_resets.pop_front();
        return HEADER_SIZE;
    }
    while (!m_ready.empty()) {
        auto it = m_by_token.find(m_ready.front());
        m_ready.pop_front();
        if (it == m_by_token.end())
            continue;
        Connection& conn = *it->second;
        conn.queued = false;
        bool removed = false;
        const uint32_t length = TRY(packet_of(conn, memory, chain, removed));
        if (!removed)
            enqueue(conn);  // more to send: behind the others, so every stream gets its turn
        if (length)
            return length;
    }
    return 0;
}

// The next packet `conn` owes the guest, written into the chain: control packets first, then
// bytes from the host socket (or its end), then a credit update if one is still owed.
Result<uint32_t> Muxer::packet_of(Connection& conn, GuestMemory& memory, const DescriptorChain& chain, bool& removed) {
    uint16_t operation = 0;
    uint32_t payload = 0, flags = 0;
    if (conn.pending & Connection::SEND_RST) {
        operation = op::RST;
    } else if (conn.pending & Connection::SEND_REQUEST) {
        operation = op::REQUEST;
    } else if (conn.pending & Connection::SEND_RESPONSE) {
        operation = op::RESPONSE;
    } else if (conn.has_data_for_guest() && chain.writable_bytes > HEADER_SIZE) {
        const uint32_t limit = static_cast<uint32_t>(
            std::min<uint64_t>({chain.writable_bytes - HEADER_SIZE, conn.peer_credit(), MAX_PAYLOAD}));
        m_iovecs.clear();
        TRY(buffer_iovecs(memory, chain.writable, HEADER_SIZE, limit, m_iovecs));
        const ssize_t n = conn.to_guest(m_iovecs);
        if (n > 0) {
            operation = op::RW;
            payload = static_cast<uint32_t>(n);
            m_stats.to_guest_bytes += payload;
        } else if (n == 0) {  // the host's end of stream: it sends no more (nor reads, if it hung up)
            conn.host_readable = false;
            conn.shutdown_flags = SHUTDOWN_SEND | (conn.host_hung_up ? SHUTDOWN_RCV : 0);
            conn.pending |= Connection::SEND_SHUTDOWN;
        } else if (n == -EAGAIN) {
            conn.host_readable = false;
        } else {
            kill(conn);
            operation = op::RST;
        }
    }
    if (!operation && (conn.pending & Connection::SEND_SHUTDOWN)) {
        operation = op::SHUTDOWN;
        flags = conn.shutdown_flags;
    }
    if (!operation && (conn.pending & Connection::SEND_CREDIT_UPDATE))
        operation = op::CREDIT_UPDATE;
    if (!operation)
        return 0u;
    Header header = conn.header_to_guest(m_guest_cid, operation);
    header.len = payload;
    header.flags = flags;
    TRY(write_buffers(memory, chain.writable, 0, std::span(reinterpret_cast<const uint8_t*>(&header), HEADER_SIZE)));
    constexpr std::pair<uint16_t, uint32_t> BITS[] = {
        {op::RST, Connection::SEND_RST}, {op::REQUEST, Connection::SEND_REQUEST},
        {op::RESPONSE, Connection::SEND_RESPONSE}, {op::SHUTDOWN, Connection::SEND_SHUTDOWN}};
    for (auto [which, bit] : BITS)
        if (operation == which)
            conn.pending &= ~bit;
    conn.pending &= ~Connection::SEND_CREDIT_UPDATE;  // every packet tells the credit
    if (operation == op::RST) {
        removed = true;
        remove(conn);
    }
    return HEADER_SIZE + payload;
}

void Muxer::reset() {
    m_ready.clear();
    m_resets.clear();
    m_by_key.clear();
    m_by_token.clear();
}

}  // namespace vmm::virtio::vsock
