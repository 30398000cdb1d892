// Virtio devices on PCI: the root complex on the buses, one function per device with its
// BAR 0 from the host bridge's 32-bit window, INTx on an IOAPIC line, MSI-X vectors through
// GSI routes and irqfds, and each queue's notify address as an ioeventfd that follows BAR 0.
#include <spdlog/spdlog.h>

#include "base/rate_limiter.h"
#include "devices/virtio/pci_transport.h"
#include "vmm/device_manager.h"

namespace vmm {

namespace {

// Moves the queues' notify ioeventfds with BAR 0 (a guest may move it or turn decoding off).
class NotifyIoeventfds final : public pci::BarListener {
public:
    NotifyIoeventfds(Vm& vm, std::vector<int> fds) : m_vm(vm), m_fds(std::move(fds)) {}
    void bar_moved(unsigned, std::optional<uint64_t> from, std::optional<uint64_t> to) override {
        // 2-byte writes without a data match: the driver writes the queue's index (§4.1.4.4);
        // other widths exit to the transport, which serves them too.
        for (uint32_t queue = 0; queue < m_fds.size(); ++queue) {
            const uint64_t offset = virtio::PciTransport::queue_notify_offset(queue);
            if (from)
                report(m_vm.unregister_ioeventfd_any(m_fds[queue], *from + offset, 2));
            if (to)
                report(m_vm.register_ioeventfd_any(m_fds[queue], *to + offset, 2));
        }
    }

private:
    static void report(const Status& status) {
        // A guest can place a BAR over another device's ioeventfd: KVM refuses, and the
        // notifications of that queue come through the transport instead.
        if (!status.ok() && allow_guest_message())
            spdlog::warn("virtio-pci: queue notify ioeventfd: {}", status.error().message());
    }

    Vm& m_vm;
    std::vector<int> m_fds;
};

}  // namespace

Status DeviceManager::enable_pci(Vm& vm, const arch::PciHostResources& host) {
    if (m_pci)
        return {};
    m_pci = std::make_unique<pci::PciRoot>();
    m_gsi_routing = std::make_unique<GsiRouting>(vm);
    m_pci_bars.emplace(host.mmio32_base, host.mmio32_size, std::vector<uint32_t>{});
    TRY(m_pio_bus.insert(pci::PciRoot::CONFIG_ADDRESS_PORT, pci::PciRoot::CONFIG_PORTS, m_pci->config_ports()));
    TRY(m_mmio_bus.insert(host.ecam_base, host.ecam_size, m_pci->ecam()));
    TRY(m_mmio_bus.insert(host.mmio32_base, host.mmio32_size, m_pci->bar_window(host.mmio32_base)));
    TRY(m_mmio_bus.insert(host.mmio64_base, host.mmio64_size, m_pci->bar_window(host.mmio64_base)));
    m_pci_host = host;
    m_pci_host->intx.clear();
    return {};
}

std::optional<arch::PciHostResources> DeviceManager::pci_resources() const { return m_pci_host; }

Result<VirtioSlot> DeviceManager::attach_virtio_pci(std::string id, std::unique_ptr<virtio::VirtioDevice> device,
                                                    Vm& vm, GuestMemory& memory, std::vector<uint32_t>& served) {
    const uint64_t bar = TRY(m_pci_bars->allocate_mmio(virtio::PciTransport::BAR_SIZE, virtio::PciTransport::BAR_SIZE, id));
    const uint32_t gsi = TRY(m_resources.allocate_gsi(id));

    VirtioSlot slot{std::move(id), bar, gsi, nullptr, nullptr, -1, {}};
    served = TRY(create_notify_fds(slot, *device));
    auto vectors = TRY(KvmMsiVectors::create(vm, *m_gsi_routing, static_cast<uint16_t>(device->queue_count() + 1)));
    auto listener = std::make_unique<NotifyIoeventfds>(vm, slot.notify_fds);
    const virtio::PciTransport::Wiring wiring{add_irq_line(vm, gsi), *vectors, *listener};
    auto transport = std::make_shared<virtio::PciTransport>(std::move(device), memory, wiring);
    m_msi_vectors.push_back(std::move(vectors));
    m_bar_listeners.push_back(std::move(listener));
    slot.pci_device = TRY(m_pci->add(transport));
    transport->assign_bar(bar);  // as firmware would; registers the notify ioeventfds
    slot.transport = transport;
    m_pci_host->intx.push_back({static_cast<uint8_t>(slot.pci_device), gsi});
    return slot;
}

}  // namespace vmm
