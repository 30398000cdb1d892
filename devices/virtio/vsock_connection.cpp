#include "devices/virtio/vsock_connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vmm::virtio::vsock {

namespace {

// Never blocks, never raises SIGPIPE (a host peer that went away is an error on the call).
ssize_t send_some(int fd, const iovec* parts, size_t count) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(parts);
    message.msg_iovlen = count;
    return ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

Header Connection::header_to_guest(uint64_t guest_cid, uint16_t operation) {
    Header h{};
    h.src_cid = HOST_CID;
    h.dst_cid = guest_cid;
    h.src_port = host_port;
    h.dst_port = guest_port;
    h.type = TYPE_STREAM;
    h.op = operation;
    h.buf_alloc = BUFFER_SIZE;
    h.fwd_cnt = m_fwd_cnt;
    m_fwd_cnt_told = m_fwd_cnt;
    return h;
}

Status Connection::from_guest(std::span<const iovec> payload, uint32_t length) {
    // §5.10.6.3.1: the sender keeps within the credit it was given; the buffer it bounds is
    // all Ember holds for a connection.
    if (static_cast<uint64_t>(m_rx_cnt - m_fwd_cnt) + length > BUFFER_SIZE)
        return guest_fault(fmt::format("vsock: port {} sent past its credit", guest_port));
    m_rx_cnt += length;
    size_t sent = 0;
    if (all_sent() && length > 0) {
        const ssize_t n = send_some(fd(), payload.data(), payload.size());
        if (n < 0 && errno != EAGAIN)
            return Error::from_errno(fmt::format("vsock: host socket of port {}", host_port));
        sent = n > 0 ? static_cast<size_t>(n) : 0;
        m_fwd_cnt += static_cast<uint32_t>(sent);
    }
    if (sent == length)
        return {};
    // What was sent of the held bytes goes, so they never take more than BUFFER_SIZE.
    m_held.erase(m_held.begin(), m_held.begin() + static_cast<ptrdiff_t>(m_held_from));
    m_held_from = 0;
    size_t skip = sent;
    for (const iovec& part : payload) {
        const auto* bytes = static_cast<const uint8_t*>(part.iov_base);
        if (skip >= part.iov_len) {
            skip -= part.iov_len;
            continue;
        }
        m_held.insert(m_held.end(), bytes + skip, bytes + part.iov_len);
        skip = 0;
    }
    return {};
}

Status Connection::flush() {
    while (!all_sent()) {
        const iovec part{m_held.data() + m_held_from, m_held.size() - m_held_from};
        const ssize_t n = send_some(fd(), &part, 1);
        if (n < 0 && errno == EAGAIN)
            return {};
        if (n <= 0)
            return Error::from_errno(fmt::format("vsock: host socket of port {}", host_port));
        m_held_from += static_cast<size_t>(n);
        m_fwd_cnt += static_cast<uint32_t>(n);
    }
    // Emptied: its memory goes back too (a burst does not pin a full buffer per connection).
    std::vector<uint8_t>().swap(m_held);
    m_held_from = 0;
    return {};
}

bool Connection::credit_update_due() const { return m_fwd_cnt - m_fwd_cnt_told >= BUFFER_SIZE / 4; }

uint32_t Connection::peer_credit() const {
    const uint32_t in_flight = m_tx_cnt - m_peer_fwd_cnt;
    return in_flight >= m_peer_buf_alloc ? 0 : m_peer_buf_alloc - in_flight;
}

ssize_t Connection::to_guest(std::span<const iovec> into) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(into.data());
    message.msg_iovlen = into.size();
    const ssize_t n = ::recvmsg(fd(), &message, MSG_DONTWAIT);
    if (n < 0)
        return -errno;
    m_tx_cnt += static_cast<uint32_t>(n);
    return n;
}

}  // namespace vmm::virtio::vsock
