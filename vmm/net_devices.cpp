#include "vmm/net_devices.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/net.h"
#include "devices/virtio/tap.h"
#include "vmm/device_manager.h"

namespace vmm {

Result<NetBackends> open_net_backends(const VmConfig& config) {
    NetBackends all;
    for (const NetConfig& net : config.nets) {
        if (net.fd >= 0) {
            std::vector<std::unique_ptr<virtio::NetBackend>> one;
            one.push_back(TRY(virtio::Tap::adopt(net.fd)));
            all.push_back(std::move(one));
            continue;
        }
        const virtio::TapAddress address{net.ip.value_or(0), net.mask};
        all.push_back(TRY(virtio::Tap::open(net.tap, net.queues, net.ip ? &address : nullptr)));
    }
    return all;
}

namespace {

// A NIC's TAP queues. Edge-triggered: a receive queue reads its TAP until it is empty or the
// driver has no buffers; then new frames, or new buffers (a queue notification), resume it.
class TapFrames final : public EventSubscriber {
public:
    TapFrames(VirtioSlot slot, std::vector<int> tap_fds) : m_slot(std::move(slot)), m_tap_fds(std::move(tap_fds)) {}

    std::vector<Interest> interests() const override {
        std::vector<Interest> fds;
        for (uint32_t pair = 0; pair < m_tap_fds.size(); ++pair)
            fds.push_back({m_tap_fds[pair], EPOLLIN | EPOLLET, pair});
        return fds;
    }
    void on_event(uint32_t pair, uint32_t) override {
        const size_t rx = virtio::Net::rx_queue(pair);
        if (m_slot.transport->notify(static_cast<uint32_t>(rx)))
            m_slot.kick(rx);
    }

private:
    VirtioSlot m_slot;
    std::vector<int> m_tap_fds;  // per queue pair
};

}  // namespace

Status attach_net_devices(VmParts& vmm, const VmConfig& config, NetBackends backends) {
    for (size_t i = 0; i < backends.size(); ++i) {
        const MacAddress mac = config.nets[i].mac ? *config.nets[i].mac : random_mac();
        auto device = std::make_unique<virtio::Net>(*vmm.memory, std::move(backends[i]), mac);
        virtio::Net* net = device.get();
        const VirtioSlot slot = TRY(vmm.attach_virtio(config.nets[i].id, std::move(device)));
        spdlog::info("virtio-net {}: mac {}, {} queue pair(s)", config.nets[i].id, format_mac(mac), net->pairs());
        std::vector<int> tap_fds;
        for (size_t pair = 0; pair < net->pairs(); ++pair)
            tap_fds.push_back(net->backend_fd(pair));
        TRY(vmm.loop->subscribe(std::make_shared<TapFrames>(slot, std::move(tap_fds))));
    }
    return {};
}

}  // namespace vmm
