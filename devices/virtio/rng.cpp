#include "devices/virtio/rng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>

#include "devices/virtio/virtio.h"

namespace vmm::virtio {

Rng::Rng(GuestMemory& memory, Source source) : m_memory(memory), m_source(std::move(source)) {}

uint32_t Rng::device_id() const { return device_id::ENTROPY; }

bool Rng::system_random(std::span<uint8_t> out) {
    while (!out.empty()) {
        ssize_t n = ::getrandom(out.data(), out.size(), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        out = out.subspan(static_cast<size_t>(n));
    }
    return true;
}

Result<bool> Rng::process_queue(size_t, Virtqueue& queue) {
    size_t served = 0;
    for (; served < REQUESTS_PER_CALL && TRY(queue.pop(m_chain)); ++served) {
        const uint32_t written = fill(m_chain);
        ++m_requests;
        m_bytes += written;
        TRY(queue.add_used(m_chain.head, written));
    }
    return stopped_at_budget(served, REQUESTS_PER_CALL, queue);
}

uint32_t Rng::fill(const DescriptorChain& chain) {
    // §5.4.6.1: the device writes only into device-writable buffers; readable ones are ignored.
    uint32_t budget = MAX_BYTES_PER_REQUEST;
    uint32_t written = 0;
    for (const Buffer& buffer : chain.writable) {
        const uint32_t take = std::min(buffer.len, budget - written);
        if (take == 0)
            break;
        auto view = m_memory.slice(buffer.addr, take);
        if (!view.ok() || !m_source(*view))
            break;
        written += take;
    }
    return written;
}

}  // namespace vmm::virtio
