// virtio-console (VIRTIO 1.2 §5.3), a single port without MULTIPORT: transmitq bytes go to
// an output sink; host input waits in a bounded buffer until the driver posts receive
// buffers. Neither direction can make the host buffer without bound.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include <sys/uio.h>

#include "devices/virtio/virtio_device.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

class Console final : public VirtioDevice {
public:
    static constexpr size_t RECEIVEQ = 0;
    static constexpr size_t TRANSMITQ = 1;
    static constexpr size_t INPUT_CAPACITY = 4096;
    static constexpr size_t REQUESTS_PER_CALL = 64;
    // Output handed to the sink per call: a chain may be up to 4 GiB (the same pages again and
    // again); a longer one is written over several calls, other events served in between.
    static constexpr uint64_t TX_BYTES_PER_CALL = 64 * 1024;

    using OutputSink = std::function<void(std::span<const uint8_t>)>;

    // `input_space` is called (under the transport's lock) when buffered input has all been
    // delivered, so a paused host input can resume.
    Console(GuestMemory& memory, OutputSink output, std::function<void()> input_space);

    uint32_t device_id() const override;
    uint64_t device_features() const override { return 0; }
    size_t queue_count() const override { return 2; }
    size_t config_size() const override;
    void read_config(uint64_t offset, std::span<uint8_t> data) const override;
    void activate(uint64_t) override {}
    Result<bool> process_queue(size_t index, Virtqueue& queue) override;
    void reset() override { m_tx_offset = 0; }
    std::vector<CounterValue> counters() const override {
        return {{"tx_bytes", m_tx_bytes}, {"rx_bytes", m_rx_bytes}};
    }

    // Thread-safe: buffers host input for the guest; returns how many bytes fit. The caller
    // then notifies the receive queue so it is delivered.
    size_t enqueue_input(std::span<const uint8_t> bytes);

    // Host input not yet delivered, and how far the chain at the head of the transmit queue
    // was written (the negotiated features come back through activate()).
    struct State {
        uint64_t tx_offset = 0;
        std::vector<uint8_t> input;
        bool operator==(const State&) const = default;
    };
    State save();
    Status restore(const State& state);

private:
    Status receive(Virtqueue& queue);
    Result<bool> transmit(Virtqueue& queue);

    GuestMemory& m_memory;
    OutputSink m_output;
    std::function<void()> m_input_space;
    std::mutex m_input_mutex;
    std::deque<uint8_t> m_input;
    DescriptorChain m_chain;
    uint64_t m_tx_offset = 0;  // bytes of the chain at the head of the transmit queue already written
    std::vector<iovec> m_iovecs;
    Counter m_tx_bytes, m_rx_bytes;  // guest to host, host to guest
};

}  // namespace vmm::virtio
