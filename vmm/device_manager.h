// The machine's devices and where they sit: the PIO and MMIO buses, the resource allocator
// (MMIO windows, interrupt lines), the interrupt lines of legacy devices, and every virtio
// device by id with its transport, irqfd and per-queue ioeventfds, in the order attached
// (the order guests enumerate them: deterministic for a given configuration).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "arch/x86_64/dsdt.h"
#include "base/guest_memory.h"
#include "base/unique_fd.h"
#include "boot/cmdline.h"
#include "devices/virtio/mmio_transport.h"
#include "devices/virtio/virtio_device.h"
#include "vmm/bus.h"
#include "vmm/event_loop.h"
#include "vmm/kvm.h"
#include "vmm/kvm_irq_line.h"
#include "vmm/resource_allocator.h"

namespace vmm {

// Signals a queue-notification eventfd (a full counter still wakes its reader).
void kick_eventfd(int fd);

struct VirtioSlot {
    std::string id;
    uint64_t base = 0;
    uint32_t gsi = 0;
    std::shared_ptr<virtio::MmioTransport> transport;
    std::vector<int> notify_fds;  // per queue, owned by the DeviceManager (or a vhost-user device)

    // Has queue `index` served again from the event loop, as a driver notification would.
    void kick(size_t index) const;
};

class DeviceManager {
public:
    DeviceManager();

    Bus& pio_bus() { return m_pio_bus; }
    Bus& mmio_bus() { return m_mmio_bus; }

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

    // The windows and interrupts of the virtio devices attached so far, for the DSDT and for
    // virtio_mmio.device= entries on the command line.
    std::vector<arch::x86_64::MmioDeviceResources> virtio_resources() const;

private:
    // Declared first, destroyed last: the devices on the buses hold references to them.
    std::vector<std::unique_ptr<KvmIrqLine>> m_irq_lines;
    std::vector<std::unique_ptr<Interrupt>> m_interrupts;
    std::vector<UniqueFd> m_notify_fds;
    Bus m_pio_bus;
    Bus m_mmio_bus;
    ResourceAllocator m_resources;
    std::vector<VirtioSlot> m_virtio;
};

// Appends a virtio_mmio.device= entry per device, for kernels without ACPI.
Status announce_on_cmdline(const std::vector<arch::x86_64::MmioDeviceResources>& devices,
                           boot::KernelCmdline& cmdline);

}  // namespace vmm
