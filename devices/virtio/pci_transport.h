// virtio over PCI, the modern interface (VIRTIO 1.2 §4.1): a PCI function 1af4:1040+id whose
// 64-bit BAR 0 holds the common configuration, ISR status, device configuration, notification
// and MSI-X table/PBA regions, each announced by a vendor capability; plus the
// VIRTIO_PCI_CAP_PCI_CFG window (§4.1.4.9). Interrupts go out as MSI-X vectors
// (config_msix_vector, queue_msix_vector) or, with MSI-X off, as ISR bits and INTx.
// Config and BAR accesses (vCPU threads) and queue notifications (event loop) are serialized.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/guest_memory.h"
#include "devices/device.h"
#include "devices/pci/msix.h"
#include "devices/pci/pci_config.h"
#include "devices/pci/pci_function.h"
#include "devices/virtio/virtio_core.h"
#include "devices/virtio/virtio_transport.h"

namespace vmm::virtio {

class PciTransport final : public pci::PciFunction, public CoreTransport, private VirtioInterrupt {
public:
    // BAR 0's layout: one 4 KiB region per structure.
    static constexpr uint64_t BAR_SIZE = 0x8000;
    static constexpr uint64_t COMMON_OFFSET = 0x0000;
    static constexpr uint64_t ISR_OFFSET = 0x1000;
    static constexpr uint64_t DEVICE_OFFSET = 0x2000;
    static constexpr uint64_t NOTIFY_OFFSET = 0x3000;
    static constexpr uint64_t MSIX_TABLE_OFFSET = 0x4000;
    static constexpr uint64_t MSIX_PBA_OFFSET = 0x5000;
    static constexpr uint64_t REGION_SIZE = 0x1000;
    static constexpr uint32_t NOTIFY_OFF_MULTIPLIER = 4;  // queue q notifies at NOTIFY_OFFSET + 4q
    static constexpr uint16_t NO_VECTOR = 0xffff;         // VIRTIO_MSI_NO_VECTOR
    static constexpr uint16_t VENDOR = 0x1af4;
    static constexpr uint16_t DEVICE_BASE = 0x1040;       // + device type (§4.1.2.1)
    static constexpr uint64_t queue_notify_offset(uint32_t queue) { return NOTIFY_OFFSET + queue * NOTIFY_OFF_MULTIPLIER; }

    struct Wiring {
        IrqLine& intx;          // INTA#, level-triggered
        pci::MsiSink& msi;      // the function's MSI-X vectors
        pci::BarListener& bars; // told where BAR 0 decodes (its notify addresses carry ioeventfds)
    };
    PciTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, const Wiring& wiring);

    // One vector per queue plus one for configuration changes.
    uint16_t vector_count() const { return m_msix.vector_count(); }
    // Firmware's assignment: BAR 0 at `address`, memory decoding and bus mastering on.
    void assign_bar(uint64_t address);

    // PciFunction
    void config_read(uint64_t offset, std::span<uint8_t> data) override;
    void config_write(uint64_t offset, std::span<const uint8_t> data) override;
    bool mmio_read(uint64_t address, std::span<uint8_t> data) override;
    bool mmio_write(uint64_t address, std::span<const uint8_t> data) override;

private:
    // VirtioInterrupt
    void signal_used(uint16_t queue) override;
    void signal_config() override;
    void interrupt(uint16_t vector, uint8_t isr_bit);
    void update_intx();

    void add_capabilities();
    // Where BAR 0 decodes after a config write; tells the listener when that changed.
    void track_bar();
    // BAR 0 accesses by offset; a write that is a queue notification returns the queue, which
    // the caller serves after dropping the lock.
    void bar_read(uint64_t offset, std::span<uint8_t> data);
    std::optional<uint32_t> bar_write(uint64_t offset, std::span<const uint8_t> data);
    std::optional<uint32_t> pci_cfg_window(bool write);

    // The common configuration structure (pci_common_config.cpp).
    void common_read(uint64_t offset, std::span<uint8_t> data);
    void common_write(uint64_t offset, std::span<const uint8_t> data);
    void reset_transport();
    uint16_t accepted_vector(uint16_t vector) const;

    IrqLine& m_intx;
    pci::BarListener& m_bars;
    pci::PciConfig m_config;
    pci::Msix m_msix;
    uint8_t m_msix_cap = 0;
    uint8_t m_pci_cfg_cap = 0;
    std::optional<uint64_t> m_bar;  // where BAR 0 decodes, as last told to the listener
    bool m_intx_level = false;
    uint8_t m_isr = 0;
    uint32_t m_device_feature_select = 0;
    uint32_t m_driver_feature_select = 0;
    uint16_t m_queue_select = 0;
    uint16_t m_config_vector = NO_VECTOR;
    std::vector<uint16_t> m_queue_vectors;
};

}  // namespace vmm::virtio
