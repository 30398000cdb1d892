#include "vmm/device_manager.h"

#include <sys/eventfd.h>

#include <algorithm>

#include <fmt/format.h>

#include "vmm/host_layout.h"
#include "vmm/kvm_irqfd.h"

namespace vmm {

namespace layout = host_layout;

void kick_eventfd(int fd) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);  // a full counter still wakes the loop
}

namespace {

// A virtio device's queue notifications: one ioeventfd per queue, served by the transport
// (the queues in `served`; the others' eventfds belong to a vhost-user backend).
class QueueNotifications final : public EventSubscriber {
public:
    QueueNotifications(VirtioSlot slot, std::vector<uint32_t> served) : m_slot(std::move(slot)), m_served(std::move(served)) {}

    std::vector<Interest> interests() const override {
        std::vector<Interest> fds;
        for (uint32_t queue : m_served)
            fds.push_back({m_slot.notify_fds[queue], EPOLLIN, queue});
        return fds;
    }
    void on_event(uint32_t queue, uint32_t) override {
        const int fd = m_slot.notify_fds[queue];
        uint64_t count;
        if (::read(fd, &count, sizeof count) != sizeof count)
            return;
        // Work left after the device's budget: kick ourselves and let other events run first.
        if (m_slot.transport->notify(queue))
            kick_eventfd(fd);
    }

private:
    VirtioSlot m_slot;
    std::vector<uint32_t> m_served;
};

}  // namespace

void VirtioSlot::kick(size_t index) const { kick_eventfd(notify_fds.at(index)); }

DeviceManager::DeviceManager()
    : m_resources(layout::VIRTIO_MMIO_BASE, std::size(layout::VIRTIO_IRQS) * layout::VIRTIO_MMIO_SIZE,
                  std::vector<uint32_t>(std::begin(layout::VIRTIO_IRQS), std::end(layout::VIRTIO_IRQS))) {}

IrqLine& DeviceManager::add_irq_line(Vm& vm, uint32_t gsi) {
    m_irq_lines.push_back(std::make_unique<KvmIrqLine>(vm, gsi));
    return *m_irq_lines.back();
}

const VirtioSlot* DeviceManager::find(std::string_view id) const {
    for (const auto& slot : m_virtio) {
        if (slot.id == id)
            return &slot;
    }
    return nullptr;
}

Result<std::vector<uint32_t>> DeviceManager::create_notify_fds(VirtioSlot& slot, virtio::VirtioDevice& device) {
    const virtio::ExternalRings* external = device.external_rings();
    std::vector<uint32_t> served;
    for (uint32_t queue = 0; queue < device.queue_count(); ++queue) {
        int fd = external ? external->kick_fd(queue) : -1;
        if (fd < 0) {
            fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            if (fd < 0)
                return Error::from_errno("eventfd");
            m_notify_fds.emplace_back(fd);
            served.push_back(queue);
        }
        slot.notify_fds.push_back(fd);
    }
    return served;
}

Status DeviceManager::add_slot(VirtioSlot slot, std::vector<uint32_t> served, EventLoop& loop) {
    if (!served.empty())
        TRY(loop.subscribe(std::make_shared<QueueNotifications>(slot, std::move(served))));
    m_virtio.push_back(std::move(slot));
    return {};
}

Result<VirtioSlot> DeviceManager::attach_virtio(std::string id, std::unique_ptr<virtio::VirtioDevice> device,
                                                Vm& vm, GuestMemory& memory, EventLoop& loop) {
    if (find(id))
        return Error(fmt::format("device id '{}' is given twice", id));
    if (m_pci) {
        std::vector<uint32_t> served;
        VirtioSlot slot = TRY(attach_virtio_pci(std::move(id), std::move(device), vm, memory, served));
        TRY(add_slot(slot, std::move(served), loop));
        return slot;
    }
    const uint64_t base = TRY(m_resources.allocate_mmio(virtio::MmioTransport::SIZE, virtio::MmioTransport::SIZE, id));
    const uint32_t gsi = TRY(m_resources.allocate_gsi(id));

    VirtioSlot slot{std::move(id), base, gsi, nullptr, nullptr, -1, {}};
    const std::vector<uint32_t> served = TRY(create_notify_fds(slot, *device));
    auto interrupt = TRY(KvmIrqfd::create(vm, gsi));
    auto transport = std::make_shared<virtio::MmioTransport>(std::move(device), memory, *interrupt);
    m_interrupts.push_back(std::move(interrupt));
    TRY(m_mmio_bus.insert(base, virtio::MmioTransport::SIZE, transport));
    slot.transport = slot.mmio = transport;

    // Queue notifications never reach a vCPU thread: KVM signals an eventfd per queue, which
    // the event loop serves, or a vhost-user backend's kick eventfd, which the backend serves.
    for (uint32_t queue = 0; queue < slot.notify_fds.size(); ++queue)
        TRY(vm.register_ioeventfd(slot.notify_fds[queue], base + virtio::MmioTransport::QUEUE_NOTIFY, 4, queue));
    TRY(add_slot(slot, served, loop));
    return slot;
}

std::vector<arch::MmioDeviceResources> DeviceManager::virtio_resources() const {
    std::vector<arch::MmioDeviceResources> devices;
    for (const auto& slot : m_virtio) {
        if (slot.mmio)
            devices.push_back({slot.base, virtio::MmioTransport::SIZE, slot.gsi});
    }
    return devices;
}

Status announce_on_cmdline(const std::vector<arch::MmioDeviceResources>& devices,
                           boot::KernelCmdline& cmdline) {
    for (const auto& device : devices)
        TRY(cmdline.append(virtio::MmioTransport::cmdline_announcement(device.base, device.gsi)));
    return {};
}

}  // namespace vmm
