// Fuzzes virtio-net frame handling: guest memory (rings, descriptors, headers, frames) from
// the input, negotiated features from its first bytes, then the transmit queue and the
// receive queue (fed frames cut from the input) served by the net device. Every byte the
// device hands the backend is read, so an out-of-bounds iovec shows up under ASan.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devices/virtio/net.h"
#include "fuzz_memory.h"

using namespace vmm;

namespace {

struct FuzzBackend final : virtio::NetBackend {
    std::span<const uint8_t> source;
    int frames_left = 3;
    uint8_t sink = 0;

    Result<size_t> receive(std::span<uint8_t> frame) override {
        if (frames_left-- <= 0 || source.empty())
            return size_t{0};
        const size_t n = std::min(frame.size(), source.size());
        std::memcpy(frame.data(), source.data(), n);
        source = source.subspan(n / 2);
        return n;
    }
    Status send(std::span<const iovec> parts) override {
        size_t total = 0;
        for (const iovec& part : parts) {
            total += part.iov_len;
            for (size_t i = 0; i < part.iov_len; ++i)
                sink ^= static_cast<const uint8_t*>(part.iov_base)[i];
        }
        if (total > sizeof(virtio::net::Header) + virtio::net::MAX_FRAME)
            __builtin_trap();  // the device must bound what it sends
        return {};
    }
    Status set_offload(uint32_t) override { return {}; }
    Status set_enabled(bool) override { return {}; }
    int fd() const override { return -1; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 4)
        return 0;
    auto memory = fuzz::memory_from({data + 4, size - 4});
    auto backend = std::make_unique<FuzzBackend>();
    backend->source = {data + 4, size - 4};
    std::vector<std::unique_ptr<virtio::NetBackend>> backends;
    backends.push_back(std::move(backend));
    virtio::Net net(memory, std::move(backends), {0x52, 0x54, 0, 0, 0, 1});
    uint64_t features = 0;
    std::memcpy(&features, data, 2);
    net.activate(features & net.device_features());
    const uint16_t queue_size = static_cast<uint16_t>(1u << (data[2] % 9));
    auto queue = virtio::Virtqueue::create(memory, {queue_size, fuzz::DESC, fuzz::AVAIL, fuzz::USED},
                                           data[3] & 1, data[3] & 2);
    if (queue.ok())
        (void)net.process_queue(data[3] & 4 ? 0 : 1, *queue);
    return 0;
}
