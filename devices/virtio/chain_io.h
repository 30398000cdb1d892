// Byte-range access to a chain's buffers: copies for headers and small fields, host iovecs
// for zero-copy data transfer. Every range is re-checked against guest memory.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <vector>

#include "devices/virtio/queue.h"
#include "base/guest_memory.h"

namespace vmm::virtio {

// Copies out.size() bytes starting `offset` bytes into the buffers.
Status read_buffers(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                    std::span<uint8_t> out);
Status write_buffers(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                     std::span<const uint8_t> in);
// Appends to `out` the host iovecs for [offset, offset + length) of the buffers.
Status buffer_iovecs(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                     uint64_t length, std::vector<iovec>& out);

}  // namespace vmm::virtio
