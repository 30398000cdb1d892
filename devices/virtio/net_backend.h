// Where a virtio-net queue pair's frames go on the host: a TAP queue in Ember, a socket pair
// in the tests. Frames carry the 12-byte virtio-net header in front in both directions.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>

#include "base/result.h"

namespace vmm::virtio {

class NetBackend {
public:
    virtual ~NetBackend() = default;

    // Reads one waiting frame into `frame`; 0 when none is waiting. Never blocks.
    virtual Result<size_t> receive(std::span<uint8_t> frame) = 0;
    // Sends one frame gathered from `parts`.
    virtual Status send(std::span<const iovec> parts) = 0;
    // Which offloads (TUN_F_* bits) frames handed to receive() may use.
    virtual Status set_offload(uint32_t tun_flags) = 0;
    // Attaches or detaches this queue from a multiqueue TAP.
    virtual Status set_enabled(bool enabled) = 0;
    // Readable when a frame waits (the event loop watches it).
    virtual int fd() const = 0;
};

}  // namespace vmm::virtio
