// The host side of virtio-vsock as Firecracker defines it: every guest stream is a UNIX
// socket. The host connects to `uds_path` and writes "CONNECT <port>\n"; once the guest's
// listener on that port accepts, it reads "OK <host port>\n" and the stream follows. A guest
// connecting to host port P reaches a listener at "<uds_path>_P", or gets an RST.
// Host sockets sit in one epoll set the event loop watches, edge-triggered, so a socket the
// guest cannot take bytes from now (no receive buffers, no credit) costs nothing until it can.
// Not thread-safe: the device serializes every call.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "devices/virtio/queue.h"
#include "devices/virtio/vsock_connection.h"
#include "devices/virtio/vsock_packet.h"
#include "base/counter.h"
#include "base/guest_memory.h"
#include "base/unique_fd.h"
#include "base/unix_listener.h"

namespace vmm::virtio::vsock {

struct MuxerStats {
    Counter connections, refused, resets, to_guest_bytes, from_guest_bytes;
};

class Muxer {
public:
    static constexpr size_t MAX_CONNECTIONS = 1024;
    // RSTs owed to packets of no connection; while full, the transmit queue waits.
    static constexpr size_t MAX_RESETS = 64;
    // Host-initiated streams get host ports from here up (as Firecracker's).
    static constexpr uint32_t FIRST_HOST_PORT = 1u << 30;
    static constexpr size_t MAX_CONNECT_LINE = 32;
    static constexpr int EVENTS_PER_CALL = 64;

    // Host-initiated streams come to `listener`; its path names the guest-initiated ones'.
    static Result<std::unique_ptr<Muxer>> create(uint64_t guest_cid, UnixListener listener);

    // Readable when a host socket has news; host_events() takes it.
    int fd() const { return m_epoll.get(); }
    void host_events();

    // A packet from the transmit queue that check_tx() accepted, payload after the header in
    // `readable`; or one it answers with an RST.
    void from_guest(GuestMemory& memory, const Header& header, std::span<const Buffer> readable);
    void answer_reset(const Header& header);
    // The transmit queue waits while answers to it could not be held.
    bool tx_blocked() const { return m_resets.size() >= MAX_RESETS; }

    // Whether a packet waits for the guest, and writing it into a receive chain (at least a
    // header long): its length, 0 when what seemed to wait was nothing after all.
    bool has_rx_work() const { return !m_resets.empty() || !m_ready.empty(); }
    Result<uint32_t> to_guest(GuestMemory& memory, const DescriptorChain& chain);

    // Device reset: every stream closed, the listener kept.
    void reset();

    size_t connection_count() const { return m_by_token.size(); }
    const MuxerStats& stats() const { return m_stats; }

private:
    Muxer(uint64_t guest_cid, UnixListener listener, UniqueFd epoll)
        : m_guest_cid(guest_cid), m_listener(std::move(listener)), m_epoll(std::move(epoll)) {}

    static uint64_t key(uint32_t host_port, uint32_t guest_port) {
        return static_cast<uint64_t>(host_port) << 32 | guest_port;
    }
    Connection* find(uint64_t k);
    Connection* add(UniqueFd socket, Connection::State state);
    void remove(Connection& conn);
    // A stream that broke (protocol error, socket failure): its socket closed, an RST owed.
    void kill(Connection& conn);
    void enqueue(Connection& conn);
    void accept_host();
    void host_event(Connection& conn, uint32_t events);
    void read_connect_line(Connection& conn);
    uint32_t allocate_host_port();
    void connect_to_host(const Header& request);
    void stream_from_guest(Connection& conn, GuestMemory& memory, const Header& header, std::span<const Buffer> readable);
    void after_sent(Connection& conn);
    Result<uint32_t> packet_of(Connection& conn, GuestMemory& memory, const DescriptorChain& chain, bool& removed);

    uint64_t m_guest_cid;
    UnixListener m_listener;
    UniqueFd m_epoll;
    uint64_t m_next_token = 1;  // 0 is the listener
    uint32_t m_next_port = FIRST_HOST_PORT;
    std::unordered_map<uint64_t, std::unique_ptr<Connection>> m_by_token;
    std::map<uint64_t, uint64_t> m_by_key;  // key(host port, guest port) -> token
    std::deque<uint64_t> m_ready;           // tokens of streams with packets for the guest
    std::deque<Header> m_resets;
    std::vector<iovec> m_iovecs;
    MuxerStats m_stats;
};

}  // namespace vmm::virtio::vsock
