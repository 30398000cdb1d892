// What a virtio device type (block, net, ...) implements; the transport does the rest
// (registers, status, feature negotiation, queues, interrupts).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "devices/virtio/queue.h"
#include "devices/virtio/virtio.h"
#include "base/counter.h"
#include "base/result.h"

namespace vmm::virtio {

// What read_config() does with a device's packed config-space struct: copies the bytes the
// driver asked for. The transport has checked offset + out.size() <= config_size().
template <typename Config>
void copy_config(const Config& config, uint64_t offset, std::span<uint8_t> out) {
    static_assert(std::is_trivially_copyable_v<Config>);
    std::memcpy(out.data(), reinterpret_cast<const uint8_t*>(&config) + offset, out.size());
}

// What a device's serve loop returns after `served` chains against a budget of `budget`:
// whether it stopped at the budget with chains still available.
inline bool stopped_at_budget(size_t served, size_t budget, const Virtqueue& queue) {
    return served >= budget && queue.has_available();
}

// A device whose rings another process serves (vhost-user). At DRIVER_OK the core hands it
// the ready queues' layouts, already validated against guest memory, and forwards their
// notifications to it instead of serving them; the device reports used buffers and its own
// failure through its transport (MmioTransport::external_used, external_failed).
class ExternalRings {
public:
    virtual ~ExternalRings() = default;
    struct Queue {
        uint32_t index;
        QueueLayout layout;
    };
    virtual Status start(uint64_t features, std::span<const Queue> ready) = 0;
    // A notification the transport saw itself (a QueueNotify write no ioeventfd caught).
    virtual void kick(uint32_t index) = 0;
    // The eventfd the backend watches for queue `index`, for KVM to signal directly on the
    // driver's notification (no hop through Ember); -1: notifications go through kick().
    virtual int kick_fd(uint32_t) const { return -1; }
};

class VirtioDevice {
public:
    virtual ~VirtioDevice() = default;

    virtual uint32_t device_id() const = 0;
    // Device-type feature bits; the transport adds VERSION_1 and ring_features().
    virtual uint64_t device_features() const = 0;
    // The ring features the device's rings support (a vhost-user backend's may lack some).
    virtual uint64_t ring_features() const { return feature::RING_EVENT_IDX | feature::RING_INDIRECT_DESC; }
    // Non-null for a device whose rings are served elsewhere.
    virtual ExternalRings* external_rings() { return nullptr; }
    virtual size_t queue_count() const = 0;

    // Device configuration space (§4.2.2 offset 0x100 on). Reads are zero-filled first and
    // lie inside config_size().
    virtual size_t config_size() const = 0;
    virtual void read_config(uint64_t offset, std::span<uint8_t> data) const = 0;
    virtual void write_config(uint64_t, std::span<const uint8_t>) {}

    // DRIVER_OK with these negotiated features.
    virtual void activate(uint64_t features) = 0;
    // Serves what the driver made available, up to a device-chosen budget (requests and
    // bytes) so one busy queue cannot starve the event loop. Returns true only when it stopped
    // at that budget with work left: the transport then reschedules the queue. A queue with
    // nothing to do for now (receive buffers waiting for host input, say) returns false and
    // is served again on the next event. An error means the driver broke the spec: the
    // transport sets DEVICE_NEEDS_RESET.
    virtual Result<bool> process_queue(size_t index, Virtqueue& queue) = 0;
    // Back to the initial state; drops in-flight requests.
    virtual void reset() = 0;

    // What it counted so far (requests, bytes, errors), for metrics; read on any thread.
    virtual std::vector<CounterValue> counters() const { return {}; }
};

}  // namespace vmm::virtio
