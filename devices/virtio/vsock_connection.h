// One virtio-vsock stream between a guest port and a host UNIX socket: its state, both
// directions' credit (§5.10.6.3) and the bytes the host socket has not taken yet, which the
// credit Ember advertises bounds. Host to guest, bytes go from the socket straight into the
// driver's receive buffers, so nothing is held for a guest that does not read.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "devices/virtio/vsock_packet.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm::virtio::vsock {

class Connection {
public:
    // What the host may have in flight to it: the guest's credit (buf_alloc).
    static constexpr uint32_t BUFFER_SIZE = 128 * 1024;

    enum class State {
        AwaitingConnect,  // host-initiated: accepted, its "CONNECT <port>\n" line not read yet
        Connecting,       // host-initiated: REQUEST sent to the guest, no RESPONSE yet
        Established,
    };
    // Control packets owed to the guest, sent in this order.
    enum Pending : uint32_t {
        SEND_RST = 1, SEND_REQUEST = 2, SEND_RESPONSE = 4, SEND_SHUTDOWN = 8, SEND_CREDIT_UPDATE = 16,
        SEND_CREDIT_REQUEST = 32,
    };

    Connection(UniqueFd socket, State state, uint64_t token) : m_socket(std::move(socket)), m_state(state), m_token(token) {}

    int fd() const { return m_socket.get(); }
    // A broken stream's socket goes at once (the host side sees it end); the RST may wait.
    void close_socket() { m_socket.reset(); }
    uint64_t token() const { return m_token; }
    State state() const { return m_state; }
    void set_state(State state) { m_state = state; }
    uint32_t host_port = 0;
    uint32_t guest_port = 0;
    uint32_t pending = 0;   // Pending bits
    bool queued = false;    // on the muxer's list of connections with packets for the guest
    bool host_readable = false;  // the socket may hold bytes (or its end): read until EAGAIN
    bool host_hung_up = false;   // the host closed both directions
    uint32_t guest_shutdown = 0;  // SHUTDOWN_* flags the guest sent
    uint32_t shutdown_flags = 0;  // what SEND_SHUTDOWN says

    // Header of a packet of this connection to the guest, credit fields filled (and the
    // credit counted as told).
    Header header_to_guest(uint64_t guest_cid, uint16_t operation);

    // --- guest to host ---
    // The credit the guest's header tells (it comes with every packet).
    void peer_credit_from(const Header& header) {
        m_peer_buf_alloc = header.buf_alloc;
        m_peer_fwd_cnt = header.fwd_cnt;
    }
    // Payload of an RW packet, gathered from guest memory: sent to the socket, what it does
    // not take kept. An error (the guest sent past its credit, the socket failed) ends the
    // connection.
    Status from_guest(std::span<const iovec> payload, uint32_t length);
    // Sends what the socket did not take before; an error ends the connection.
    Status flush();
    bool all_sent() const { return m_held_from == m_held.size(); }
    // Enough was forwarded since the guest last heard of it that its credit should grow.
    bool credit_update_due() const;

    // --- host to guest ---
    // What the guest can take now (its buffer less what is in flight).
    uint32_t peer_credit() const;
    bool has_data_for_guest() const {
        return m_state == State::Established && host_readable && !(guest_shutdown & SHUTDOWN_RCV) &&
               !(pending & SEND_SHUTDOWN) && shutdown_flags == 0 && peer_credit() > 0;
    }
    // Reads from the socket into `into` (sized within peer_credit()): >0 bytes read, 0 the
    // host's end of stream, -EAGAIN nothing for now, other -errno a failure.
    ssize_t to_guest(std::span<const iovec> into);

private:
    UniqueFd m_socket;
    State m_state;
    uint64_t m_token;
    // Guest to host: bytes received from the guest, forwarded to the socket, and what the
    // guest was last told was forwarded; bytes waiting for the socket.
    uint32_t m_rx_cnt = 0, m_fwd_cnt = 0, m_fwd_cnt_told = 0;
    std::vector<uint8_t> m_held;
    size_t m_held_from = 0;
    // Host to guest: the guest's buffer and what it consumed, as it last said; bytes sent.
    uint32_t m_peer_buf_alloc = 0, m_peer_fwd_cnt = 0, m_tx_cnt = 0;
};

}  // namespace vmm::virtio::vsock
