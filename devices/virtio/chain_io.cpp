#include "devices/virtio/chain_io.h"

#include <cstring>

namespace vmm::virtio {

namespace {

// Calls visit(host_span) for each piece of [offset, offset + length) of the buffers, in order.
template <typename Visit>
Status for_each_piece(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                      uint64_t length, Visit visit) {
    for (const Buffer& buffer : buffers) {
        if (length == 0)
            break;
        if (offset >= buffer.len) {
            offset -= buffer.len;
            continue;
        }
        const uint64_t take = std::min<uint64_t>(buffer.len - offset, length);
        auto view = TRY(memory.slice(buffer.addr + offset, take));
        visit(view);
        length -= take;
        offset = 0;
    }
    if (length)
        return guest_fault("request runs past the end of its buffers");
    return {};
}

}  // namespace

Status read_buffers(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                    std::span<uint8_t> out) {
    size_t done = 0;
    return for_each_piece(memory, buffers, offset, out.size(), [&](std::span<uint8_t> piece) {
        std::memcpy(out.data() + done, piece.data(), piece.size());
        done += piece.size();
    });
}

Status write_buffers(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                     std::span<const uint8_t> in) {
    size_t done = 0;
    return for_each_piece(memory, buffers, offset, in.size(), [&](std::span<uint8_t> piece) {
        std::memcpy(piece.data(), in.data() + done, piece.size());
        done += piece.size();
    });
}

Status buffer_iovecs(const GuestMemory& memory, std::span<const Buffer> buffers, uint64_t offset,
                     uint64_t length, std::vector<iovec>& out) {
    return for_each_piece(memory, buffers, offset, length, [&](std::span<uint8_t> piece) {
        if (!piece.empty())
            out.push_back({piece.data(), piece.size()});
    });
}

}  // namespace vmm::virtio
