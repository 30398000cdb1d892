// Fuzzes split-virtqueue chain parsing: the input is guest memory holding the descriptor
// table, available ring and any indirect tables; the first bytes pick size and features.
#include <cstddef>
#include <cstdint>

#include "devices/virtio/queue.h"
#include "fuzz_memory.h"

using namespace vmm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2)
        return 0;
    const uint16_t queue_size = static_cast<uint16_t>(1u << (data[0] % 9));  // 1..256
    const bool event_idx = data[1] & 1, indirect = data[1] & 2;
    auto memory = fuzz::memory_from({data + 2, size - 2});
    auto queue = virtio::Virtqueue::create(memory, {queue_size, fuzz::DESC, fuzz::AVAIL, fuzz::USED},
                                           event_idx, indirect);
    if (!queue.ok())
        return 0;
    virtio::DescriptorChain chain;
    for (int i = 0; i < 2 * virtio::Virtqueue::MAX_SIZE; ++i) {
        auto popped = queue->pop(chain);
        if (!popped.ok() || !*popped)
            break;
        // Every buffer handed to device code must lie inside guest memory.
        for (const auto* list : {&chain.readable, &chain.writable})
            for (const auto& b : *list)
                if (!memory.slice(b.addr, b.len).ok())
                    __builtin_trap();
        if (!queue->add_used(chain.head, static_cast<uint32_t>(chain.writable_bytes)).ok())
            __builtin_trap();
        (void)queue->should_notify();
    }
    return 0;
}
