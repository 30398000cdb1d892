// virtio-console (VIRTIO 1.2 §5.3), a single port without MULTIPORT: transmitq bytes go to
// an output sink; host input waits in a bounded buffer until the driver posts receive
// buffers. Neither direction can make the host buffer without bound.
#pragma once

#include <deque>
#include <functional>
#include <mutex>
#include <span>

#include "devices/virtio/virtio_device.h"
#include "vmm/guest_memory.h"

namespace vmm::virtio {

class Console final : public VirtioDevice {
public:
    static constexpr size_t RECEIVEQ = 0;
    static constexpr size_t TRANSMITQ = 1;
    static constexpr size_t INPUT_CAPACITY = 4096;
    static constexpr size_t REQUESTS_PER_CALL = 64;

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
    Status process_queue(size_t index, Virtqueue& queue) override;
    void reset() override;

    // Thread-safe: buffers host input for the guest; returns how many bytes fit. The caller
    // then notifies the receive queue so it is delivered.
    size_t enqueue_input(std::span<const uint8_t> bytes);

private:
    Status receive(Virtqueue& queue);
    Status transmit(Virtqueue& queue);

    GuestMemory& m_memory;
    OutputSink m_output;
    std::function<void()> m_input_space;
    std::mutex m_input_mutex;
    std::deque<uint8_t> m_input;
    DescriptorChain m_chain;
};

}  // namespace vmm::virtio
