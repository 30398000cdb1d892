#include "tests/support/virtio_driver_fake.h"

namespace vmm::test {

namespace {

GuestMemory make_memory(uint64_t size) {
    const MemoryRegionSpec spec[] = {{0, size}};
    return std::move(GuestMemory::create(spec).value());
}

}  // namespace

FakeDriverQueue::FakeDriverQueue(uint16_t size, uint64_t memory_size)
    : m_memory(make_memory(memory_size)), m_size(size) {}

void FakeDriverQueue::write_desc(uint16_t index, virtio::VirtqDesc desc) {
    (void)m_memory.store(DESC + 16ull * index, desc);
}

uint16_t FakeDriverQueue::add_chain(const std::vector<Segment>& segments, uint16_t first) {
    for (size_t i = 0; i < segments.size(); ++i) {
        const bool last = i + 1 == segments.size();
        const uint16_t flags = static_cast<uint16_t>((segments[i].device_writes ? virtio::VIRTQ_DESC_F_WRITE : 0) |
                                                     (last ? 0 : virtio::VIRTQ_DESC_F_NEXT));
        write_desc(static_cast<uint16_t>(first + i),
                   {segments[i].addr, segments[i].len, flags, static_cast<uint16_t>(first + i + 1)});
    }
    make_available(first);
    return first;
}

void FakeDriverQueue::make_available(uint16_t head) {
    (void)m_memory.store<uint16_t>(AVAIL + 4 + 2ull * (m_avail_idx % m_size), head);
    set_avail_idx(static_cast<uint16_t>(m_avail_idx + 1));
}

void FakeDriverQueue::set_avail_idx(uint16_t idx) {
    m_avail_idx = idx;
    (void)m_memory.store<uint16_t>(AVAIL + 2, idx);
}

void FakeDriverQueue::set_used_event(uint16_t event) {
    (void)m_memory.store<uint16_t>(AVAIL + 4 + 2ull * m_size, event);
}

void FakeDriverQueue::set_avail_flags(uint16_t flags) { (void)m_memory.store<uint16_t>(AVAIL, flags); }

uint16_t FakeDriverQueue::used_idx() { return m_memory.load<uint16_t>(USED + 2).value(); }

virtio::VirtqDesc FakeDriverQueue::used_elem(uint16_t slot) {
    const uint64_t at = USED + 4 + 8ull * (slot % m_size);
    return {m_memory.load<uint32_t>(at).value(), m_memory.load<uint32_t>(at + 4).value(), 0, 0};
}

uint64_t FakeDriverQueue::alloc(uint32_t len) {
    const uint64_t addr = m_next_data;
    m_next_data += (len + 15) & ~15u;
    return addr;
}

}  // namespace vmm::test
