// virtio-fs (VIRTIO 1.2 §5.11) over vhost-user: the device is its configuration (the tag the
// guest mounts by, one request queue) and a vhost-user backend (virtiofsd) that serves both
// queues, the high-priority one and the request one, from guest memory directly. The driver's
// notifications reach the backend's kick eventfds straight from KVM (kick_fd()); Ember turns
// the backend's call eventfds into the driver's interrupts (call_fd(): the event loop watches
// them).
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "devices/virtio/vhost_user.h"
#include "devices/virtio/virtio_device.h"

namespace vmm::virtio {

class Fs final : public VirtioDevice, private ExternalRings {
public:
    static constexpr size_t TAG_SIZE = 36;  // §5.11.4, UTF-8, NUL-padded, not terminated when full
    static constexpr size_t QUEUES = 2;     // hiprio and one request queue

    // The tag must be 1..36 bytes; the backend must offer VERSION_1 and serve two queues.
    static Result<std::unique_ptr<Fs>> create(GuestMemory& memory, const std::string& tag, VhostUserFrontend backend);

    uint32_t device_id() const override { return device_id::FS; }
    uint64_t device_features() const override { return 0; }
    uint64_t ring_features() const override;
    ExternalRings* external_rings() override { return this; }
    size_t queue_count() const override { return QUEUES; }
    size_t config_size() const override { return sizeof(Config); }
    void read_config(uint64_t offset, std::span<uint8_t> data) const override { copy_config(m_config, offset, data); }
    void activate(uint64_t) override {}
    Result<bool> process_queue(size_t, Virtqueue&) override { return false; }  // never called: rings are external
    void reset() override;

    std::vector<CounterValue> counters() const override { return {{"interrupts", m_interrupts}}; }

    int call_fd(size_t queue) const { return m_call[queue].get(); }
    int backend_fd() const { return m_backend.socket_fd(); }
    const std::string& backend_name() const { return m_backend.name(); }
    // The event loop drained call_fd(queue): one more interrupt for the metrics.
    void count_interrupt() { ++m_interrupts; }
    // The event loop saw the backend hang up: it serves no ring any more, so a reset sends it
    // nothing (a dead socket would only answer EPIPE) and a new start fails at once.
    void backend_closed() { m_backend_gone = true; }

private:
    struct [[gnu::packed]] Config {
        char tag[TAG_SIZE];
        uint32_t num_request_queues;  // little-endian
    };
    static_assert(sizeof(Config) == 40);

    Fs(GuestMemory& memory, VhostUserFrontend backend, Config config, std::array<UniqueFd, QUEUES> kick,
       std::array<UniqueFd, QUEUES> call);
    Status start(uint64_t features, std::span<const Queue> ready) override;
    void kick(uint32_t index) override;
    int kick_fd(uint32_t index) const override { return index < QUEUES ? m_kick[index].get() : -1; }

    GuestMemory& m_memory;
    VhostUserFrontend m_backend;
    Config m_config;
    std::array<UniqueFd, QUEUES> m_kick, m_call;
    std::vector<uint32_t> m_started;
    std::atomic<bool> m_backend_gone = false;
    Counter m_interrupts;
};

}  // namespace vmm::virtio
