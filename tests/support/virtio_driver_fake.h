// The driver side of a split virtqueue, over a GuestMemory buffer: what the device unit
// tests and the device-path benchmarks use in place of a guest. Writes descriptors and rings exactly as a
// driver would (VIRTIO 1.2 §2.7.13), and lets a test corrupt any of them.
#pragma once

#include <cstdint>
#include <vector>

#include "devices/virtio/queue.h"
#include "base/guest_memory.h"

namespace vmm::test {

class FakeDriverQueue {
public:
    static constexpr uint64_t DESC = 0x1000, AVAIL = 0x2000, USED = 0x3000, DATA = 0x10000;
    static constexpr uint64_t DEFAULT_MEMORY_SIZE = 0x100000;
    static constexpr uint64_t MEMORY_SIZE = DEFAULT_MEMORY_SIZE;

    explicit FakeDriverQueue(uint16_t size = 16, uint64_t memory_size = DEFAULT_MEMORY_SIZE);

    GuestMemory& memory() { return m_memory; }
    virtio::QueueLayout layout() const { return {m_size, DESC, AVAIL, USED}; }

    struct Segment {
        uint64_t addr;
        uint32_t len;
        bool device_writes;
    };
    // Writes the descriptors at table slots starting at `first`, chained in order, and
    // makes the chain available. Returns the head index.
    uint16_t add_chain(const std::vector<Segment>& segments, uint16_t first = 0);
    void write_desc(uint16_t index, virtio::VirtqDesc desc);
    void make_available(uint16_t head);
    void set_avail_idx(uint16_t idx);
    void set_used_event(uint16_t event);
    void set_avail_flags(uint16_t flags);

    uint16_t used_idx();
    virtio::VirtqDesc used_elem(uint16_t slot);  // {id in addr, len}
    uint64_t alloc(uint32_t len);                // bump allocator in the data area
    void reset_alloc() { m_next_data = DATA; }

private:
    GuestMemory m_memory;
    uint16_t m_size;
    uint16_t m_avail_idx = 0;
    uint64_t m_next_data = DATA;
};

}  // namespace vmm::test
