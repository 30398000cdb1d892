#include "vmm/vsock_device.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/vsock.h"
#include "vmm/device_manager.h"

namespace vmm {

namespace {

// The muxer's epoll set: host sockets with news. Taken at once whatever the driver's state
// (an untaken level-triggered fd would wake the loop for ever), then the receive queue is
// served if packets wait for the guest.
class VsockHostEvents final : public EventSubscriber {
public:
    VsockHostEvents(VirtioSlot slot, virtio::Vsock& device) : m_slot(std::move(slot)), m_device(device) {}

    std::vector<Interest> interests() const override { return {{m_device.host_fd(), EPOLLIN, 0}}; }
    void on_event(uint32_t, uint32_t) override {
        if (m_device.host_events() && m_slot.transport->notify(virtio::Vsock::RXQ))
            m_slot.kick(virtio::Vsock::RXQ);
    }

private:
    VirtioSlot m_slot;
    virtio::Vsock& m_device;
};

}  // namespace

Result<std::optional<UnixListener>> open_vsock_listener(const VmConfig& config) {
    if (!config.vsock)
        return std::optional<UnixListener>();
    const std::string& path = config.vsock->uds_path;
    return std::optional<UnixListener>(TRY(UnixListener::bind(path, fmt::format("vsock socket '{}'", path))));
}

Status attach_vsock_device(VmParts& vmm, const VmConfig& config, std::optional<UnixListener> listener) {
    if (!config.vsock || !listener)
        return {};
    auto muxer = TRY(virtio::vsock::Muxer::create(config.vsock->cid, std::move(*listener)));
    auto device = std::make_unique<virtio::Vsock>(*vmm.memory, config.vsock->cid, std::move(muxer));
    virtio::Vsock* vsock = device.get();
    const VirtioSlot slot = TRY(vmm.attach_virtio(config.vsock->id, std::move(device)));
    // The eventfds only: a copy of the slot would hold the transport, which holds the device.
    vsock->set_queue_kick([fds = slot.notify_fds](size_t queue) { kick_eventfd(fds.at(queue)); });
    TRY(vmm.loop->subscribe(std::make_shared<VsockHostEvents>(slot, *vsock)));
    spdlog::info("virtio-vsock {}: guest CID {}, host side at {}", config.vsock->id, config.vsock->cid,
                 config.vsock->uds_path);
    return {};
}

}  // namespace vmm
