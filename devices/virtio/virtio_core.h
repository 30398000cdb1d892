// What every virtio transport shares (VIRTIO 1.2 §2, §3): the device status state machine,
// feature negotiation, queue configuration and enabling, reset, the configuration generation
// and serving notifications. A transport (MMIO now, PCI later) decodes its registers into
// these calls and turns signal_used()/signal_config() into its own interrupts.
// Not thread-safe: the transport serializes every call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/guest_memory.h"
#include "devices/virtio/virtio_device.h"

namespace vmm::virtio {

// How a device tells its driver something happened; the transport decides what that is on the
// wire (an interrupt-status bit and an IRQ for MMIO, an MSI-X vector for PCI).
class VirtioInterrupt {
public:
    virtual ~VirtioInterrupt() = default;
    virtual void signal_used(uint16_t queue) = 0;
    virtual void signal_config() = 0;
};

class VirtioCore {
public:
    VirtioCore(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, VirtioInterrupt& interrupt);

    VirtioDevice& device() { return *m_device; }
    const VirtioDevice& device() const { return *m_device; }
    size_t queue_count() const { return m_queues.size(); }

    // --- features (§2.2): 32-bit windows, as both MMIO and PCI expose them ---
    // The device's features plus VERSION_1 and the ring features it supports.
    uint64_t offered_features() const;
    uint32_t offered_features_word(uint32_t select) const;
    // Ignored once FEATURES_OK is set, and for select > 1.
    void set_driver_features_word(uint32_t select, uint32_t value);
    uint64_t driver_features() const { return m_driver_features; }

    // --- device status (§2.1, §3.1.1) ---
    uint32_t status() const { return m_status; }
    // A driver status write: 0 resets; otherwise bits are only added, in order; FEATURES_OK
    // holds only for an offered subset with VERSION_1; DRIVER_OK activates the device. An
    // illegal transition sets DEVICE_NEEDS_RESET.
    void write_status(uint32_t value);
    // The device cannot go on (the driver broke the rules): DEVICE_NEEDS_RESET, queues off,
    // and a configuration interrupt when DRIVER_OK was set (§2.1.2).
    void needs_reset(const std::string& why);
    void reset();

    // --- queues (§2.6, §4.2.3.2): configured while not ready and before DRIVER_OK ---
    static constexpr uint16_t max_queue_size() { return Virtqueue::MAX_SIZE; }
    enum class Ring { Descriptors, Driver, Device };
    bool queue_exists(uint32_t index) const { return index < m_queues.size(); }
    bool queue_ready(uint32_t index) const { return queue_exists(index) && m_queues[index].ready; }
    uint16_t queue_size(uint32_t index) const { return queue_exists(index) ? m_queues[index].layout.size : 0; }
    uint64_t queue_ring(uint32_t index, Ring ring) const;
    void set_queue_size(uint32_t index, uint32_t size);
    // Sets the low or high half of a ring address.
    void set_queue_ring_half(uint32_t index, Ring ring, bool high, uint32_t value);
    // Enabling validates the layout (a bad one: DEVICE_NEEDS_RESET); disabling drops the queue.
    void set_queue_ready(uint32_t index, bool ready);

    // --- configuration space (§2.5) ---
    size_t config_size() const { return m_device->config_size(); }
    // Offset into config space when [offset, offset + size) lies inside it.
    std::optional<uint64_t> config_offset(uint64_t offset, size_t size) const;
    uint32_t config_generation() const { return m_config_generation; }
    // The device changed its configuration: a new generation and a configuration interrupt.
    void config_changed();

    // A notification for queue `index`: serves it and signals used buffers as the driver asked.
    // True when the device stopped at its budget with work left (the caller reschedules).
    bool notify(uint32_t index);
    // A device with external rings used buffers of queue `index`: signalled while it runs.
    void external_used(uint32_t index);

    // What the core keeps (the device type's own state is its own).
    struct QueueState {
        QueueLayout layout;
        bool ready = false;
        std::optional<Virtqueue::State> queue;  // when ready
        bool operator==(const QueueState&) const = default;
    };
    struct State {
        uint32_t status = 0;
        uint64_t driver_features = 0;
        uint32_t config_generation = 0;
        std::vector<QueueState> queues;
        bool operator==(const State&) const = default;
    };
    State save() const;
    // Onto a core of the same device type, fresh or reset. A state with DRIVER_OK activates the
    // device with the saved features; its own state is restored after this. Checked as guest
    // input: unknown status bits, a queue count or layout that does not fit are refused.
    Status restore(const State& state);

private:
    struct Queue {
        QueueLayout layout;
        bool ready = false;
        std::optional<Virtqueue> queue;
    };
    bool queue_writable(uint32_t index) const;
    bool running() const;
    void start_external_rings(ExternalRings& rings);

    std::unique_ptr<VirtioDevice> m_device;
    GuestMemory& m_memory;
    VirtioInterrupt& m_interrupt;
    std::vector<Queue> m_queues;
    uint32_t m_status = 0;
    uint64_t m_driver_features = 0;
    uint32_t m_config_generation = 0;
};

}  // namespace vmm::virtio
