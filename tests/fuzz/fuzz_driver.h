// A structure-aware fake driver for the fuzzers: turns fuzz input into mostly well-formed
// queue contents (queue sizes up to 256, chains of many descriptors, indirect tables up to
// the largest queue, batches of requests) with a few fields corrupted, so that the devices'
// real states are reached, and not only the first validation that random bytes fail.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>

#include "devices/virtio/queue.h"
#include "fuzz_memory.h"

namespace vmm::fuzz {

inline constexpr uint64_t DRIVER_MEMORY = 1 << 20;   // guest memory the driver lays out in
inline constexpr uint64_t RING_DESC = 0x0000, RING_AVAIL = 0x1000, RING_USED = 0x2000;
inline constexpr uint64_t TABLES = 0x4000;            // indirect tables, 4 KiB each
inline constexpr uint64_t DATA = 0x80000;             // buffers

inline GuestMemory driver_memory() {
    const MemoryRegionSpec spec[] = {{0, DRIVER_MEMORY}};
    return std::move(GuestMemory::create(spec).value());
}

class FuzzDriver {
public:
    FuzzDriver(FuzzedDataProvider& in, GuestMemory& memory) : m_in(in), m_memory(memory) {
        m_size = static_cast<uint16_t>(1u << m_in.ConsumeIntegralInRange(0, 8));
    }

    virtio::QueueLayout layout() const { return {m_size, RING_DESC, RING_AVAIL, RING_USED}; }
    uint16_t size() const { return m_size; }

    // Makes up to `count` chains available; returns how many.
    uint16_t post(uint16_t count) {
        uint16_t posted = 0;
        for (; posted < count && m_in.remaining_bytes() > 0; ++posted) {
            const uint16_t head = m_in.ConsumeIntegralInRange<uint16_t>(0, m_size - 1);
            write_chain(head);
            store<uint16_t>(RING_AVAIL + 4 + 2ull * (m_avail_idx % m_size), head);
            ++m_avail_idx;
        }
        store<uint16_t>(RING_AVAIL + 2, corrupt16(m_avail_idx));
        return posted;
    }

    // A byte range in the data area with some content.
    uint64_t buffer(uint32_t len) {
        const uint64_t addr = DATA + m_in.ConsumeIntegralInRange<uint64_t>(0, DRIVER_MEMORY - DATA - 1);
        const auto bytes = m_in.ConsumeBytes<uint8_t>(std::min<uint32_t>(len, 64));
        (void)m_memory.write(addr, bytes);
        return addr;
    }

private:
    template <typename T>
    void store(uint64_t gpa, T value) { (void)m_memory.store(gpa, value); }

    uint16_t corrupt16(uint16_t value) {
        return m_in.ConsumeIntegralInRange(0, 31) == 0 ? m_in.ConsumeIntegral<uint16_t>() : value;
    }

    virtio::VirtqDesc descriptor(uint16_t next, bool last, bool writable) {
        const uint32_t len = m_in.ConsumeBool() ? m_in.ConsumeIntegralInRange<uint32_t>(0, 4096)
                                                : m_in.ConsumeIntegral<uint32_t>();
        uint16_t flags = static_cast<uint16_t>((last ? 0 : virtio::VIRTQ_DESC_F_NEXT) |
                                               (writable ? virtio::VIRTQ_DESC_F_WRITE : 0));
        if (m_in.ConsumeIntegralInRange(0, 63) == 0)
            flags = m_in.ConsumeIntegral<uint16_t>();
        return {buffer(len), len, flags, corrupt16(next)};
    }

    // A chain at `head`: direct through the queue's table, or one indirect descriptor to a
    // table of up to 256 entries; readable descriptors first, then writable ones.
    void write_chain(uint16_t head) {
        const bool indirect = m_in.ConsumeBool();
        const uint16_t limit = indirect ? virtio::Virtqueue::MAX_SIZE : m_size;
        const uint16_t length = m_in.ConsumeIntegralInRange<uint16_t>(1, limit);
        const uint16_t readable = m_in.ConsumeIntegralInRange<uint16_t>(0, length);
        const uint64_t table = indirect ? TABLES + 0x1000ull * m_in.ConsumeIntegralInRange(0, 31) : RING_DESC;
        uint16_t index = indirect ? 0 : head;
        for (uint16_t i = 0; i < length; ++i) {
            const uint16_t next = indirect ? static_cast<uint16_t>(i + 1) : static_cast<uint16_t>((index + 1) % m_size);
            store(table + 16ull * index, descriptor(next, i + 1 == length, i >= readable));
            index = next;
        }
        if (indirect) {
            uint32_t bytes = 16u * length;
            if (m_in.ConsumeIntegralInRange(0, 31) == 0)
                bytes = m_in.ConsumeIntegral<uint32_t>();
            store(RING_DESC + 16ull * head, virtio::VirtqDesc{table, bytes, virtio::VIRTQ_DESC_F_INDIRECT, 0});
        }
    }

    FuzzedDataProvider& m_in;
    GuestMemory& m_memory;
    uint16_t m_size;
    uint16_t m_avail_idx = 0;
};

}  // namespace vmm::fuzz
