#include "vmm/virtio_slots.h"

#include <sys/eventfd.h>

#include <fmt/format.h>

#include "arch/x86_64/layout.h"
#include "vmm/kvm_irqfd.h"

namespace vmm {

namespace layout = arch::x86_64::layout;

namespace {

void kick_fd(int fd) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);  // a full counter still wakes the loop
}

}  // namespace

void VirtioSlot::kick(size_t index) const { kick_fd(notify_fds.at(index)); }

Result<VirtioSlot> attach_virtio_device(Vmm& vmm, std::unique_ptr<virtio::VirtioDevice> device) {
    const size_t slot = vmm.virtio_devices.size();
    if (slot >= std::size(layout::VIRTIO_IRQS))
        return Error(ErrorKind::Internal, "no free virtio-mmio slot");
    const uint64_t base = layout::virtio_mmio_base(slot);
    const uint32_t irq = layout::VIRTIO_IRQS[slot];

    auto interrupt = TRY(KvmIrqfd::create(*vmm.vm, irq));
    auto transport = std::make_shared<virtio::MmioTransport>(std::move(device), *vmm.memory, *interrupt);
    vmm.interrupts.push_back(std::move(interrupt));
    TRY(vmm.mmio_bus.insert(base, layout::VIRTIO_MMIO_SIZE, transport));

    // Queue notifications never reach a vCPU thread: KVM signals an eventfd per queue and
    // the event loop serves it.
    VirtioSlot slot_info{transport, {}};
    for (uint32_t queue = 0; queue < transport->queue_count(); ++queue) {
        int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (fd < 0)
            return Error::from_errno("eventfd");
        vmm.queue_notify_fds.emplace_back(fd);
        slot_info.notify_fds.push_back(fd);
        TRY(vmm.vm->register_ioeventfd(fd, base + virtio::MmioTransport::QUEUE_NOTIFY, 4, queue));
        TRY(vmm.loop->add(fd, EPOLLIN, [fd, queue, transport](uint32_t) {
            uint64_t count;
            if (::read(fd, &count, sizeof count) != sizeof count)
                return;
            // Work left after the device's budget: kick ourselves and let other events run first.
            if (transport->notify(queue))
                kick_fd(fd);
        }));
    }
    vmm.virtio_devices.push_back(transport);
    return slot_info;
}

std::vector<arch::x86_64::MmioDeviceResources> virtio_device_resources(const Vmm& vmm) {
    std::vector<arch::x86_64::MmioDeviceResources> devices;
    for (size_t slot = 0; slot < vmm.virtio_devices.size(); ++slot)
        devices.push_back({layout::virtio_mmio_base(slot), layout::VIRTIO_MMIO_SIZE, layout::VIRTIO_IRQS[slot]});
    return devices;
}

Status announce_on_cmdline(const std::vector<arch::x86_64::MmioDeviceResources>& devices,
                           boot::KernelCmdline& cmdline) {
    for (const auto& device : devices)
        TRY(cmdline.append(virtio::MmioTransport::cmdline_announcement(device.base, device.gsi)));
    return {};
}

}  // namespace vmm
