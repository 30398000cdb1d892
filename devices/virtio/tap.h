// A Linux TAP interface as a virtio-net backend: IFF_TAP | IFF_NO_PI | IFF_VNET_HDR with a
// 12-byte header, non-blocking, one fd per queue (IFF_MULTI_QUEUE when several).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "devices/virtio/net_backend.h"
#include "base/unique_fd.h"

namespace vmm::virtio {

struct TapAddress {
    uint32_t ip = 0;    // network byte order
    uint32_t mask = 0;  // network byte order
};

class Tap final : public NetBackend {
public:
    // Opens (creating it if missing) the TAP `name` with `queues` queues; with `address`,
    // gives the host side that address and brings the link up.
    static Result<std::vector<std::unique_ptr<NetBackend>>> open(const std::string& name, uint32_t queues,
                                                                const TapAddress* address);
    // Takes over an already-open TAP fd (opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR).
    static Result<std::unique_ptr<NetBackend>> adopt(int fd);

    Result<size_t> receive(std::span<uint8_t> frame) override;
    Status send(std::span<const iovec> parts) override;
    Status set_offload(uint32_t tun_flags) override;
    Status set_enabled(bool enabled) override;
    int fd() const override { return m_fd.get(); }

private:
    explicit Tap(UniqueFd fd) : m_fd(std::move(fd)) {}
    static Result<std::unique_ptr<Tap>> prepare(UniqueFd fd, const std::string& what);

    UniqueFd m_fd;
    bool m_enabled = true;  // a queue is attached when opened
};

}  // namespace vmm::virtio
