// virtio-net (VIRTIO 1.2 §5.1) over one NetBackend per queue pair. Transmit frames are
// checked (header, size) and gathered straight from guest memory; received frames wait in
// the backend until the driver posts buffers (at most one frame per pair is held here), so
// nothing is dropped for lack of buffers. MRG_RXBUF, checksum/TSO/UFO offloads, and
// multiqueue with a control queue.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "devices/virtio/net_backend.h"
#include "devices/virtio/net_header.h"
#include "devices/virtio/virtio_device.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

struct NetStats {
    Counter rx_frames, rx_bytes, rx_dropped;
    Counter tx_frames, tx_bytes, tx_dropped, tx_errors;
};

class Net final : public VirtioDevice {
public:
    using Mac = std::array<uint8_t, 6>;
    static constexpr size_t FRAMES_PER_CALL = 64;
    static constexpr uint32_t MAX_PAIRS = 8;

    // One backend per queue pair (1..MAX_PAIRS); more than one offers MQ and a control queue.
    Net(GuestMemory& memory, std::vector<std::unique_ptr<NetBackend>> backends, const Mac& mac);
    // Says what was dropped, if anything: drops are counted, never logged one by one.
    ~Net() override;

    uint32_t device_id() const override;
    uint64_t device_features() const override { return m_offered; }
    size_t queue_count() const override;
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void activate(uint64_t features) override;
    Result<bool> process_queue(size_t index, Virtqueue& queue) override;
    void reset() override;

    size_t pairs() const { return m_pairs.size(); }
    int backend_fd(size_t pair) const { return m_pairs[pair].backend->fd(); }
    static size_t rx_queue(size_t pair) { return 2 * pair; }
    const NetStats& stats() const { return m_stats; }
    std::vector<CounterValue> counters() const override;

    // The pairs the driver enabled and each pair's received frame still waiting for buffers
    // (the negotiated features come back through activate(), before restore()).
    struct State {
        uint32_t active_pairs = 1;
        std::vector<std::vector<uint8_t>> waiting_frames;  // one per pair, empty: none
        bool operator==(const State&) const = default;
    };
    State save() const;
    Status restore(const State& state);

private:
    struct Pair {
        std::unique_ptr<NetBackend> backend;
        std::unique_ptr<uint8_t[]> frame;  // a received frame waiting for buffers
        size_t frame_len = 0;
    };
    enum class Role { Rx, Tx, Control, Unused };

    Role role(size_t index, size_t& pair) const;
    Result<bool> receive(Pair& pair, Virtqueue& queue);
    Result<bool> deliver(Pair& pair, Virtqueue& queue);
    Result<bool> transmit(Pair& pair, Virtqueue& queue);
    bool transmit_one(Pair& pair);
    Result<bool> control(Virtqueue& queue);
    uint8_t set_active_pairs(uint16_t count);

    GuestMemory& m_memory;
    std::vector<Pair> m_pairs;
    Mac m_mac;
    uint64_t m_offered = 0;
    uint64_t m_features = 0;
    size_t m_active_pairs = 1;
    NetStats m_stats;
    DescriptorChain m_chain;
    DescriptorChain m_first;  // mergeable receive: the chain that carries the header
    std::vector<Virtqueue::Used> m_used;  // mergeable receive: (head, length), published together
    std::vector<iovec> m_iovecs;
};

}  // namespace vmm::virtio
