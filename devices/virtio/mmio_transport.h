// virtio-mmio transport, version 2 (VIRTIO 1.2 §4.2): decodes the register window into the
// transport-independent VirtioCore and turns its signals into the interrupt-status register
// and one interrupt line. MMIO accesses (vCPU threads) and queue notifications (event loop)
// are serialized.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/guest_memory.h"
#include "devices/device.h"
#include "devices/virtio/virtio_core.h"
#include "devices/virtio/virtio_device.h"
#include "devices/virtio/virtio_transport.h"

namespace vmm::virtio {

class MmioTransport final : public BusDevice, public CoreTransport, private VirtioInterrupt {
public:
    static constexpr uint64_t SIZE = 0x1000;
    static constexpr uint64_t QUEUE_NOTIFY = 0x50;

    MmioTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, Interrupt& interrupt);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    std::string_view name() const override { return "virtio-mmio"; }

    struct State {
        VirtioCore::State core;
        uint32_t device_features_sel = 0;
        uint32_t driver_features_sel = 0;
        uint32_t queue_sel = 0;
        uint32_t interrupt_status = 0;
        bool operator==(const State&) const = default;
    };
    State save() const;
    Status restore(const State& state);

    // How a kernel without ACPI finds the device at [base, base + SIZE) with interrupt `irq`:
    // the virtio_mmio.device= parameter (Linux CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES). With ACPI
    // the DSDT describes the same window and interrupt (arch/x86_64/dsdt).
    static std::string cmdline_announcement(uint64_t base, uint32_t irq);

private:
    void signal_used(uint16_t queue) override;
    void signal_config() override;

    // Registers take 32-bit aligned accesses only; others are logged (rate-limited) and ignored.
    bool register_access_ok(uint64_t offset, size_t size, const char* what);
    uint32_t read_register(uint64_t offset);
    void write_register(uint64_t offset, uint32_t value);

    Interrupt& m_interrupt;
    uint32_t m_device_features_sel = 0;
    uint32_t m_driver_features_sel = 0;
    uint32_t m_queue_sel = 0;
    uint32_t m_interrupt_status = 0;
};

}  // namespace vmm::virtio
