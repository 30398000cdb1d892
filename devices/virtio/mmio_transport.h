// virtio-mmio transport, version 2 (VIRTIO 1.2 §4.2): registers, device status state
// machine, feature negotiation, queue set-up and interrupts, around one VirtioDevice.
// MMIO accesses (vCPU threads) and queue notifications (event loop) are serialized.
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "devices/device.h"
#include "devices/virtio/virtio_device.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

class MmioTransport final : public BusDevice {
public:
    static constexpr uint64_t SIZE = 0x1000;
    static constexpr uint64_t QUEUE_NOTIFY = 0x50;

    MmioTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, Interrupt& interrupt);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    std::string_view name() const override { return "virtio-mmio"; }

    // A notification for queue `index` (QueueNotify write or its ioeventfd). Returns true
    // when the device stopped at its budget with requests still available: the caller
    // reschedules instead of looping, so other events get their turn.
    bool notify(uint32_t index);

    uint32_t status() const;
    size_t queue_count() const { return m_queues.size(); }

private:
    struct QueueState {
        QueueLayout layout;
        bool ready = false;
        std::optional<Virtqueue> queue;
    };

    // Offset into config space when [offset, offset + size) lies inside it.
    std::optional<uint64_t> config_offset(uint64_t offset, size_t size) const;
    // Registers take 32-bit aligned accesses only; others are logged once and ignored.
    bool register_access_ok(uint64_t offset, size_t size, const char* what);
    uint32_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint32_t value);
    void write_status(uint32_t value);
    void set_queue_ready(QueueState& q, bool ready);
    bool process(size_t index);
    void needs_reset(const std::string& why);
    void reset();
    uint64_t offered_features() const;
    QueueState* selected_queue();

    std::unique_ptr<VirtioDevice> m_device;
    GuestMemory& m_memory;
    Interrupt& m_interrupt;
    mutable std::mutex m_mutex;
    std::vector<QueueState> m_queues;
    uint32_t m_status = 0;
    uint32_t m_device_features_sel = 0;
    uint32_t m_driver_features_sel = 0;
    uint64_t m_driver_features = 0;
    uint32_t m_queue_sel = 0;
    uint32_t m_interrupt_status = 0;
    uint32_t m_config_generation = 0;
};

}  // namespace vmm::virtio
