// virtio-rng (VIRTIO 1.2 §5.4): fills the driver's writable buffers with getrandom() bytes,
// at most MAX_BYTES_PER_REQUEST per request so one request cannot make the device loop long.
#pragma once

#include <functional>
#include <span>

#include "devices/virtio/virtio_device.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

class Rng final : public VirtioDevice {
public:
    static constexpr uint32_t MAX_BYTES_PER_REQUEST = 64 * 1024;
    static constexpr size_t REQUESTS_PER_CALL = 64;
    // Fills the span completely or returns false (getrandom(2) in production).
    using Source = std::function<bool(std::span<uint8_t>)>;

    Rng(GuestMemory& memory, Source source);

    uint32_t device_id() const override;
    uint64_t device_features() const override { return 0; }
    size_t queue_count() const override { return 1; }
    size_t config_size() const override { return 0; }
    void read_config(uint64_t, std::span<uint8_t>) const override {}
    void activate(uint64_t) override {}
    Result<bool> process_queue(size_t index, Virtqueue& queue) override;
    void reset() override {}

    // getrandom(2), retrying on EINTR and short reads.
    static bool system_random(std::span<uint8_t> out);

    std::vector<CounterValue> counters() const override {
        return {{"requests", m_requests}, {"bytes", m_bytes}};
    }

private:
    uint32_t fill(const DescriptorChain& chain);

    GuestMemory& m_memory;
    Source m_source;
    DescriptorChain m_chain;
    Counter m_requests, m_bytes;
};

}  // namespace vmm::virtio
