// vhost-user frontend (QEMU docs/interop/vhost-user.rst): the requests that hand a virtio
// device's rings to a backend process over its UNIX socket. Guest memory goes over as memfd
// regions (so it must be MemoryBacking::Shared), each ring as its addresses in this process
// plus a kick eventfd (the driver notified) and a call eventfd (the backend used buffers).
// Every request is bounded by a socket timeout: a backend that stops answering gives an error,
// never a hang. Not thread-safe: its device's transport serializes the calls.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "base/guest_memory.h"
#include "base/result.h"
#include "base/unique_fd.h"
#include "devices/virtio/queue.h"

namespace vmm::virtio {

class VhostUserFrontend {
public:
    // Front-end message types used (vhost-user.rst "Front-end message types").
    enum Request : uint32_t {
        GET_FEATURES = 1, SET_FEATURES = 2, SET_OWNER = 3, SET_MEM_TABLE = 5, SET_VRING_NUM = 8,
        SET_VRING_ADDR = 9, SET_VRING_BASE = 10, GET_VRING_BASE = 11, SET_VRING_KICK = 12,
        SET_VRING_CALL = 13, GET_PROTOCOL_FEATURES = 15, SET_PROTOCOL_FEATURES = 16,
        GET_QUEUE_NUM = 17, SET_VRING_ENABLE = 18,
    };
    static constexpr uint64_t F_PROTOCOL_FEATURES = 1ull << 30;
    static constexpr uint64_t PROTOCOL_F_MQ = 1ull << 0;
    static constexpr uint64_t PROTOCOL_F_REPLY_ACK = 1ull << 3;
    static constexpr uint32_t MAX_REGIONS = 8;           // VHOST_MEMORY_BASELINE_NREGIONS
    static constexpr int REPLY_TIMEOUT_SECONDS = 5;

    // Connects to the backend listening at `path`, then does the handshake.
    static Result<VhostUserFrontend> connect(const std::string& path);
    // The same over an already connected socket; `name` is what errors call the backend.
    static Result<VhostUserFrontend> adopt(UniqueFd socket, std::string name);

    // The backend's virtio features, without the vhost-user transport's own bit.
    uint64_t features() const { return m_features & ~F_PROTOCOL_FEATURES; }
    // How many queues the backend serves (GET_QUEUE_NUM where it has MQ, else unbounded).
    uint32_t max_queues() const { return m_max_queues; }
    int socket_fd() const { return m_socket.get(); }
    const std::string& name() const { return m_name; }

    struct Ring {
        uint32_t index;
        QueueLayout layout;  // guest addresses, validated against guest memory by the core
        int kick;
        int call;
    };
    // SET_FEATURES, SET_MEM_TABLE, then each ring's size, base, addresses, eventfds and enable.
    Status start(uint64_t features, const GuestMemory& memory, std::span<const Ring> rings);
    // GET_VRING_BASE for ring `index`: the backend stops serving it.
    Status stop_ring(uint32_t index);

private:
    VhostUserFrontend(UniqueFd socket, std::string name) : m_socket(std::move(socket)), m_name(std::move(name)) {}
    Status handshake();

    // One message; with `ack` (and REPLY_ACK negotiated) waits for the backend's status.
    Status send(Request request, std::span<const uint8_t> payload, std::span<const int> fds = {}, bool ack = true);
    // A request whose reply is `reply.size()` bytes of payload.
    Status ask(Request request, std::span<const uint8_t> payload, std::span<uint8_t> reply);
    Result<uint64_t> get_u64(Request request);
    Status set_u64(Request request, uint64_t value, std::span<const int> fds = {});
    Status receive_reply(Request request, std::span<uint8_t> reply);

    UniqueFd m_socket;
    std::string m_name;
    uint64_t m_features = 0;
    uint64_t m_protocol_features = 0;
    uint32_t m_max_queues = UINT32_MAX;
};

}  // namespace vmm::virtio
