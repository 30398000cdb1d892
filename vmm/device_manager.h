// The machine's devices and where they sit: the PIO and MMIO buses, the resource allocator
// (MMIO windows, interrupt lines), the interrupt lines of legacy devices, and every virtio
// device by id with its transport, irqfd and per-queue ioeventfds, in the order attached
// (the order guests enumerate them: deterministic for a given configuration).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "arch/device_resources.h"
#include "base/guest_memory.h"
#include "base/unique_fd.h"
#include "boot/cmdline.h"
#include "devices/pci/pci_root.h"
#include "devices/virtio/mmio_transport.h"
#include "devices/virtio/virtio_transport.h"
#include "devices/virtio/virtio_device.h"
#include "vmm/bus.h"
#include "vmm/event_loop.h"
#include "vmm/kvm.h"
#include "vmm/kvm_irq_line.h"
#include "vmm/msi_routing.h"
#include "vmm/resource_allocator.h"

namespace vmm {

// Signals a queue-notification eventfd (a full counter still wakes its reader).
void kick_eventfd(int fd);

struct VirtioSlot {
    std::string id;
    uint64_t base = 0;  // the MMIO window, or where firmware put the PCI function's BAR 0
    uint32_t gsi = 0;   // the MMIO interrupt, or the PCI function's INTx
    std::shared_ptr<virtio::VirtioTransport> transport;
    std::shared_ptr<virtio::MmioTransport> mmio;  // the same transport on MMIO; null on PCI
    int pci_device = -1;                          // on PCI: its device number on bus 0
    std::vector<int> notify_fds;  // per queue, owned by the DeviceManager (or a vhost-user device)

    // Has queue `index` served again from the event loop, as a driver notification would.
    void kick(size_t index) const;
};

class DeviceManager {
public:
    DeviceManager();

    Bus& pio_bus() { return m_pio_bus; }
    Bus& mmio_bus() { return m_mmio_bus; }

    // Puts virtio devices attached from now on on PCI: the root complex's configuration ports,
    // ECAM and BAR windows go on the buses, and MSI-X vectors get KVM GSI routes.
    Status enable_pci(Vm& vm, const arch::PciHostResources& host);
    bool pci_enabled() const { return m_pci != nullptr; }
    // The host bridge's resources and each PCI function's INTx, for the ACPI tables.
    std::optional<arch::PciHostResources> pci_resources() const;

    // A level-triggered line of the in-kernel irqchip for a legacy device; lives as long as
    // the manager.
    IrqLine& add_irq_line(Vm& vm, uint32_t gsi);

    // Places a virtio device: the next MMIO window and interrupt line, an irqfd, and an
    // ioeventfd per queue whose notifications the event loop serves (a device with external
    // rings: its backend's kick eventfds). `id` must be new.
    Result<VirtioSlot> attach_virtio(std::string id, std::unique_ptr<virtio::VirtioDevice> device, Vm& vm,
                                     GuestMemory& memory, EventLoop& loop);
    const VirtioSlot* find(std::string_view id) const;
    const std::vector<VirtioSlot>& virtio_slots() const { return m_virtio; }

    // The windows and interrupts of the virtio-mmio devices attached so far, for the DSDT and for
    // virtio_mmio.device= entries on the command line.
    std::vector<arch::MmioDeviceResources> virtio_resources() const;

private:
    Result<VirtioSlot> attach_virtio_pci(std::string id, std::unique_ptr<virtio::VirtioDevice> device, Vm& vm,
                                         GuestMemory& memory, std::vector<uint32_t>& served);
    // An eventfd per queue (a device with external rings: its backend's kick eventfds) in
    // slot.notify_fds; returns the queues the event loop serves.
    Result<std::vector<uint32_t>> create_notify_fds(VirtioSlot& slot, virtio::VirtioDevice& device);
    Status add_slot(VirtioSlot slot, std::vector<uint32_t> served, EventLoop& loop);

    // Declared first, destroyed last: the devices on the buses hold references to them.
    std::vector<std::unique_ptr<KvmIrqLine>> m_irq_lines;
    std::vector<std::unique_ptr<Interrupt>> m_interrupts;
    std::vector<UniqueFd> m_notify_fds;
    std::unique_ptr<GsiRouting> m_gsi_routing;
    std::vector<std::unique_ptr<pci::MsiSink>> m_msi_vectors;
    std::vector<std::unique_ptr<pci::BarListener>> m_bar_listeners;
    std::unique_ptr<pci::PciRoot> m_pci;
    std::optional<arch::PciHostResources> m_pci_host;
    std::optional<ResourceAllocator> m_pci_bars;
    Bus m_pio_bus;
    Bus m_mmio_bus;
    ResourceAllocator m_resources;
    std::vector<VirtioSlot> m_virtio;
};

// Appends a virtio_mmio.device= entry per device, for kernels without ACPI.
Status announce_on_cmdline(const std::vector<arch::MmioDeviceResources>& devices,
                           boot::KernelCmdline& cmdline);

}  // namespace vmm
