#include "vmm/migration.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <optional>

#include <fmt/format.h>

#include "base/unix_address.h"
#include "base/unix_listener.h"

namespace vmm {

namespace {

struct Header {
    uint32_t type;
    uint32_t zero;
    uint64_t length;
};
static_assert(sizeof(Header) == 16);

// A peer that stops talking for this long has failed (a receiver does not wait forever on a
// sender that died, nor a sender on its receiver).
constexpr int SILENCE_SECONDS = 60;

struct TcpAddress {
    sockaddr_storage storage{};
    socklen_t length = 0;
};

Result<TcpAddress> tcp_address(const MigrationUrl& url) {
    TcpAddress address;
    const std::string host = url.host == "localhost" ? "127.0.0.1" : url.host;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address.storage);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
    if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(url.port);
        address.length = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(url.port);
        address.length = sizeof(sockaddr_in6);
    } else {
        return Error(fmt::format("migration URL '{}': '{}' is not an IPv4 or IPv6 address (or localhost)", url.text,
                                 url.host));
    }
    return address;
}

// Both ends: the silence limit, and for TCP no Nagle delay (the last messages are small and
// each waits for an answer: the pause would grow by a delayed ACK).
Status set_socket_options(int fd, const MigrationUrl& url, const std::string& what) {
    const timeval limit{SILENCE_SECONDS, 0};
    const int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0 ||
        (url.kind == MigrationUrl::Kind::Tcp && ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0))
        return Error::from_errno(what);
    return {};
}

Status read_exactly(int fd, uint8_t* out, uint64_t length) {
    while (length) {
        const ssize_t got = ::read(fd, out, length);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return Error(fmt::format("migration: the other side sent nothing for {} s", SILENCE_SECONDS));
        if (got < 0)
            return Error::from_errno("migration: reading from the other side");
        if (got == 0)
            return Error("migration: the other side closed the connection");
        out += got;
        length -= static_cast<uint64_t>(got);
    }
    return {};
}

}  // namespace

Result<MigrationUrl> parse_migration_url(std::string_view text) {
    MigrationUrl url;
    url.text = std::string(text);
    if (text.starts_with("unix:")) {
        url.kind = MigrationUrl::Kind::Unix;
        url.path = std::string(text.substr(5));
        if (!unix_address(url.path))
            return Error(fmt::format("migration URL '{}': the path must be 1 to {} bytes", text, MAX_UNIX_PATH));
        return url;
    }
    if (!text.starts_with("tcp:"))
        return Error(fmt::format("migration URL '{}' is not unix:PATH or tcp:HOST:PORT", text));
    url.kind = MigrationUrl::Kind::Tcp;
    const std::string_view rest = text.substr(4);
    const size_t colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0)
        return Error(fmt::format("migration URL '{}' is not tcp:HOST:PORT", text));
    std::string_view host = rest.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    const std::string_view port = rest.substr(colon + 1);
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
        return Error(fmt::format("migration URL '{}': port '{}' is not 1 to 65535", text, port));
    url.host = std::string(host);
    url.port = static_cast<uint16_t>(value);
    TRY(tcp_address(url));
    return url;
}

Result<UniqueFd> connect_migration(const MigrationUrl& url) {
    const std::string what = fmt::format("migration: connecting to '{}'", url.text);
    UniqueFd fd;
    int result = -1;
    if (url.kind == MigrationUrl::Kind::Unix) {
        fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const sockaddr_un address = *unix_address(url.path);
        if (fd.valid())
            result = ::connect(fd.get(), as_sockaddr(address), sizeof address);
    } else {
        const TcpAddress address = TRY(tcp_address(url));
        fd.reset(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (fd.valid())
            result = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length);
    }
    if (!fd.valid() || result != 0)
        return Error::from_errno(what);
    TRY(set_socket_options(fd.get(), url, what));
    return fd;
}

Result<UniqueFd> accept_migration(const MigrationUrl& url) {
    const std::string what = fmt::format("migration: listening at '{}'", url.text);
    UniqueFd listening;
    std::optional<UnixListener> unix_listener;
    if (url.kind == MigrationUrl::Kind::Unix) {
        unix_listener.emplace(TRY(UnixListener::bind(url.path, fmt::format("migration socket '{}'", url.path))));
    } else {
        const TcpAddress address = TRY(tcp_address(url));
        listening.reset(::socket(address.storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        const int one = 1;
        if (!listening.valid() || ::setsockopt(listening.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
            ::bind(listening.get(), reinterpret_cast<const sockaddr*>(&address.storage), address.length) != 0 ||
            ::listen(listening.get(), 1) != 0)
            return errno == EADDRINUSE ? Error(ErrorKind::Busy, fmt::format("{}: the address is in use", what))
                                       : Error::from_errno(what);
    }
    // Blocking accept: the receiver has nothing else to do until its sender comes.
    const int listen_fd = unix_listener ? unix_listener->fd() : listening.get();
    UniqueFd peer;
    for (;;) {
        pollfd wait{listen_fd, POLLIN, 0};
        if (::poll(&wait, 1, -1) < 0 && errno != EINTR)
            return Error::from_errno(what);
        peer.reset(::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC));
        if (peer.valid())
            break;
        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
            return Error::from_errno(what);
    }
    TRY(set_socket_options(peer.get(), url, what));
    return peer;
}

Status send_message(int fd, MigrationMessage type, std::span<const uint8_t> head, std::span<const uint8_t> body) {
    Header header{static_cast<uint32_t>(type), 0, head.size() + body.size()};
    iovec parts[3] = {{&header, sizeof header},
                      {const_cast<uint8_t*>(head.data()), head.size()},
                      {const_cast<uint8_t*>(body.data()), body.size()}};
    iovec* next = parts;
    int left = 3;
    while (left) {
        const ssize_t sent = ::writev(fd, next, left);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return Error(fmt::format("migration: the other side took nothing for {} s", SILENCE_SECONDS));
        if (sent < 0)
            return Error::from_errno("migration: sending to the other side");
        size_t done = static_cast<size_t>(sent);
        while (left && done >= next->iov_len) {
            done -= next->iov_len;
            ++next;
            --left;
        }
        if (left) {
            next->iov_base = static_cast<uint8_t*>(next->iov_base) + done;
            next->iov_len -= done;
        }
    }
    return {};
}

Result<ReceivedMessage> receive_message(int fd, uint64_t max_payload) {
    Header header{};
    TRY(read_exactly(fd, reinterpret_cast<uint8_t*>(&header), sizeof header));
    if (header.type < static_cast<uint32_t>(MigrationMessage::Hello) ||
        header.type > static_cast<uint32_t>(MigrationMessage::Result) || header.zero != 0)
        return Error(fmt::format("migration: the other side sent a message of unknown type {}", header.type));
    if (header.length > max_payload)
        return Error(fmt::format("migration: a message of {} bytes, more than the {} it may have", header.length,
                                 max_payload));
    // Grown as the bytes come: a length alone does not make the receiver allocate it.
    ReceivedMessage message{static_cast<MigrationMessage>(header.type), {}};
    constexpr uint64_t CHUNK = 1u << 20;
    while (message.payload.size() < header.length) {
        const size_t at = message.payload.size();
        const uint64_t take = std::min<uint64_t>(CHUNK, header.length - at);
        message.payload.resize(at + take);
        TRY(read_exactly(fd, message.payload.data() + at, take));
    }
    return message;
}

}  // namespace vmm
