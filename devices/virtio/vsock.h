// virtio-vsock (VIRTIO 1.2 §5.10): the guest's AF_VSOCK streams to the host, whose side is
// the Muxer's UNIX sockets (Firecracker's scheme). Stream sockets only (no SEQPACKET); the
// event queue's buffers are kept for the transport reset a snapshot restore announces.
// Host news (the muxer's epoll set) come from the event loop, queue work from the transport:
// one lock keeps them apart.
#pragma once

#include <functional>
#include <memory>
#include <mutex>

#include "devices/virtio/virtio_device.h"
#include "devices/virtio/vsock_muxer.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

class Vsock final : public VirtioDevice {
public:
    static constexpr size_t RXQ = 0, TXQ = 1, EVENTQ = 2;
    static constexpr size_t PACKETS_PER_CALL = 64;
    static constexpr uint64_t F_STREAM = 1;  // §5.10.3 VIRTIO_VSOCK_F_STREAM

    Vsock(GuestMemory& memory, uint64_t guest_cid, std::unique_ptr<vsock::Muxer> muxer);

    uint32_t device_id() const override { return device_id::VSOCK; }
    uint64_t device_features() const override { return F_STREAM; }
    size_t queue_count() const override { return 3; }
    size_t config_size() const override { return sizeof(uint64_t); }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void activate(uint64_t) override {}
    Result<bool> process_queue(size_t index, Virtqueue& queue) override;
    void reset() override;
    std::vector<CounterValue> counters() const override;

    // Has the transport serve queue `index` later (a notification of it, from the event loop):
    // packets for the guest after the transmit queue produced some, the transmit queue after
    // room for its answers came back. Set once the device is placed.
    void set_queue_kick(std::function<void(size_t)> kick) { m_kick = std::move(kick); }

    // The muxer's fd is readable: takes the host's news. True when packets wait for the guest.
    bool host_events();

    // After a snapshot restore (or a migration): the host side of every connection is gone,
    // which the driver learns from VIRTIO_VSOCK_EVENT_TRANSPORT_RESET (§5.10.6.6) in its next
    // event buffer, as Firecracker does; it then drops its connections and reads the guest
    // CID again.
    void announce_transport_reset();
    int host_fd() const { return m_muxer->fd(); }
    uint64_t guest_cid() const { return m_guest_cid; }

private:
    Result<bool> receive(Virtqueue& queue);
    Result<bool> transmit(Virtqueue& queue);
    Result<bool> send_event(Virtqueue& queue);
    void transmit_one();

    GuestMemory& m_memory;
    const uint64_t m_guest_cid;
    std::unique_ptr<vsock::Muxer> m_muxer;
    std::function<void(size_t)> m_kick;
    std::mutex m_mutex;
    DescriptorChain m_chain;
    bool m_tx_waiting = false;  // the transmit queue stopped for room for its answers
    bool m_reset_pending = false;  // a transport reset waits for an event buffer
    Counter m_dropped;          // transmit packets no one answers (too short, not the guest's)
};

}  // namespace vmm::virtio
