#include "vmm/fs_devices.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/fs.h"
#include "vmm/device_manager.h"

namespace vmm {

Result<std::vector<FsBackend>> open_fs_backends(const VmConfig& config) {
    std::vector<FsBackend> backends;
    for (const FsConfig& fs : config.filesystems) {
        if (!fs.socket.empty()) {
            backends.push_back({TRY(virtio::VhostUserFrontend::connect(fs.socket)), std::nullopt});
            continue;
        }
        UniqueFd connection;
        Virtiofsd daemon = TRY(Virtiofsd::start(fs.dir, fs.readonly, connection));
        auto frontend = TRY_CTX(virtio::VhostUserFrontend::adopt(std::move(connection), fmt::format("virtiofsd for {}", fs.dir)),
                                fmt::format("--fs dir={}", fs.dir));
        backends.push_back({std::move(frontend), std::move(daemon)});
    }
    return backends;
}

namespace {

// A virtio-fs device's side of the loop: the backend's call eventfds become interrupts, and
// its socket closing (virtiofsd ended) puts the device in DEVICE_NEEDS_RESET, once: the
// socket is watched edge-triggered for the hangup alone (replies are read by the requests).
class BackendEvents final : public EventSubscriber {
public:
    static constexpr uint32_t SOCKET = virtio::Fs::QUEUES;

    BackendEvents(VirtioSlot slot, virtio::Fs& fs) : m_slot(std::move(slot)), m_fs(fs) {}

    std::vector<Interest> interests() const override {
        std::vector<Interest> fds;
        for (uint32_t q = 0; q < virtio::Fs::QUEUES; ++q)
            fds.push_back({m_fs.call_fd(q), EPOLLIN, q});
        fds.push_back({m_fs.backend_fd(), EPOLLRDHUP | EPOLLET, SOCKET});
        return fds;
    }
    void on_event(uint32_t token, uint32_t events) override {
        if (token == SOCKET) {
            if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !m_failed) {
                m_failed = true;
                m_fs.backend_closed();
                m_slot.transport->external_failed(
                    fmt::format("{}: vhost-user backend {} closed the connection", m_slot.id, m_fs.backend_name()));
            }
            return;
        }
        uint64_t count = 0;
        if (::read(m_fs.call_fd(token), &count, sizeof count) == sizeof count) {
            m_fs.count_interrupt();
            m_slot.transport->external_used(token);
        }
    }

private:
    VirtioSlot m_slot;
    virtio::Fs& m_fs;
    bool m_failed = false;
};

}  // namespace

Status attach_fs_devices(VmParts& vmm, const VmConfig& config, std::vector<FsBackend> backends) {
    for (size_t i = 0; i < backends.size(); ++i) {
        const FsConfig& fs = config.filesystems[i];
        auto device = TRY(virtio::Fs::create(*vmm.memory, fs.tag, std::move(backends[i].frontend)));
        virtio::Fs* raw = device.get();
        const VirtioSlot slot = TRY(vmm.attach_virtio(fs.id, std::move(device)));
        if (backends[i].daemon)
            vmm.fs_daemons.push_back(std::move(*backends[i].daemon));
        spdlog::info("virtio-fs {}: tag {}, backend {}", fs.id, fs.tag, raw->backend_name());
        TRY(vmm.loop->subscribe(std::make_shared<BackendEvents>(slot, *raw)));
    }
    return {};
}

}  // namespace vmm
