#include "vmm/vsock_device.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/unix_address.h"
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

// A UNIX socket at `path` that refuses connections has no listener: removed. Anything else
// (a live socket, another kind of file) stays, and binding then reports it.
void remove_stale_socket(const std::string& path) {
    struct stat st {};
    const auto address = unix_address(path);
    if (!address || ::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (probe.valid() && ::connect(probe.get(), as_sockaddr(*address), sizeof *address) != 0 && errno == ECONNREFUSED)
        ::unlink(path.c_str());
}

}  // namespace

Result<std::optional<UnixListener>> open_vsock_listener(const VmConfig& config, bool replace_stale) {
    if (!config.vsock)
        return std::optional<UnixListener>();
    const std::string& path = config.vsock->uds_path;
    if (replace_stale)
        remove_stale_socket(path);
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
