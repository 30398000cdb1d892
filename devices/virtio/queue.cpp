#include "devices/virtio/queue.h"

#include <atomic>

#include <fmt/format.h>

namespace vmm::virtio {

namespace {

// Byte offsets inside the rings (§2.7.6, §2.7.8).
constexpr uint64_t RING_IDX = 2;
constexpr uint64_t RING_ENTRIES = 4;
constexpr uint64_t USED_ELEM_SIZE = 8;
constexpr uint64_t MAX_CHAIN_BYTES = 1ull << 32;  // §2.7.5: a chain is at most 2^32 bytes

uint64_t avail_ring_size(uint16_t n) { return 6 + 2ull * n; }
uint64_t used_ring_size(uint16_t n) { return 6 + USED_ELEM_SIZE * n; }

}  // namespace

void DescriptorChain::clear() {
    readable.clear();
    writable.clear();
    readable_bytes = writable_bytes = 0;
}

Result<Virtqueue> Virtqueue::create(GuestMemory& memory, const QueueLayout& layout, bool event_idx,
                                    bool indirect) {
    const uint16_t n = layout.size;
    if (n == 0 || n > MAX_SIZE || (n & (n - 1)))
        return guest_fault(fmt::format("queue size {} is not a power of two in 1..{}", n, MAX_SIZE));
    if (layout.desc_table % 16 || layout.avail_ring % 2 || layout.used_ring % 4)
        return guest_fault("queue rings are misaligned (descriptors 16, available 2, used 4)");
    if (!memory.slice(layout.desc_table, sizeof(VirtqDesc) * n).ok() ||
        !memory.slice(layout.avail_ring, avail_ring_size(n)).ok() ||
        !memory.slice(layout.used_ring, used_ring_size(n)).ok())
        return guest_fault("queue rings are not inside guest memory");
    return Virtqueue(memory, layout, event_idx, indirect);
}

Virtqueue::State Virtqueue::save() const {
    return {m_layout, m_event_idx, m_indirect, m_next_avail, m_next_used, m_signalled_used};
}

Result<Virtqueue> Virtqueue::restore(GuestMemory& memory, const State& state) {
    auto queue = TRY(create(memory, state.layout, state.event_idx, state.indirect));
    queue.m_next_avail = state.next_avail;
    queue.m_next_used = state.next_used;
    queue.m_signalled_used = state.signalled_used;
    return queue;
}

Result<uint16_t> Virtqueue::load_avail_idx() const {
    auto view = TRY(m_memory->slice(m_layout.avail_ring + RING_IDX, sizeof(uint16_t)));
    // SAFETY: in guest memory, 2-byte aligned (checked at create); the driver writes it
    // concurrently, so read it atomically, acquiring the ring entries it publishes.
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(view.data())).load(std::memory_order_acquire);
}

bool Virtqueue::has_available() const {
    auto idx = load_avail_idx();
    return idx.ok() && *idx != m_next_avail;
}

Status Virtqueue::publish_avail_event() {
    // §2.7.10: with EVENT_IDX the device tells the driver which avail index to notify at.
    return m_memory->store<uint16_t>(m_layout.used_ring + RING_ENTRIES + USED_ELEM_SIZE * m_layout.size,
                                     m_next_avail);
}

Result<bool> Virtqueue::pop(DescriptorChain& chain) {
    uint16_t avail_idx = TRY(load_avail_idx());
    if (avail_idx == m_next_avail && m_event_idx) {
        TRY(publish_avail_event());
        std::atomic_thread_fence(std::memory_order_seq_cst);  // the event write, then re-check
        avail_idx = TRY(load_avail_idx());
    }
    const uint16_t pending = static_cast<uint16_t>(avail_idx - m_next_avail);
    if (pending == 0)
        return false;
    if (pending > m_layout.size)
        return guest_fault(fmt::format("available index moved by {} entries in a queue of {}", pending,
                                 m_layout.size));
    const uint64_t slot = m_layout.avail_ring + RING_ENTRIES + 2ull * (m_next_avail % m_layout.size);
    const uint16_t head = TRY(m_memory->load<uint16_t>(slot));
    if (head >= m_layout.size)
        return guest_fault(fmt::format("available ring names descriptor {} of {}", head, m_layout.size));
    TRY(read_chain(head, chain));
    ++m_next_avail;
    if (m_event_idx)
        TRY(publish_avail_event());
    return true;
}

Status Virtqueue::read_chain(uint16_t head, DescriptorChain& chain) const {
    chain.clear();
    chain.head = head;
    uint64_t table = m_layout.desc_table;
    uint32_t table_size = m_layout.size;
    bool in_indirect = false;
    uint32_t index = head;
    // §2.7.5.3.1: no chain is longer than the queue size. An indirect table is a table of its
    // own: its entries are counted against its size (at most MAX_SIZE, whatever the queue's
    // size: Linux's virtio-blk sends header + seg_max segments + status = 256 entries through
    // one indirect descriptor on a 256-entry queue, as the spec allows and QEMU serves). The
    // budget also ends loops.
    for (uint32_t budget = m_layout.size;; --budget) {
        if (budget == 0)
            return guest_fault("descriptor chain is longer than its table (a loop?)");
        if (index >= table_size)
            return guest_fault(fmt::format("descriptor index {} out of range {}", index, table_size));
        const auto desc = TRY(m_memory->load<VirtqDesc>(table + sizeof(VirtqDesc) * index));
        if (desc.flags & VIRTQ_DESC_F_INDIRECT) {
            // §2.7.5.3: negotiated only, not nested, not combined with NEXT, whole entries.
            if (!m_indirect || in_indirect || (desc.flags & VIRTQ_DESC_F_NEXT))
                return guest_fault("invalid indirect descriptor (not negotiated, nested or chained)");
            // No alignment is required of the table (§2.7.5.3); it is read field by field.
            if (desc.len == 0 || desc.len % sizeof(VirtqDesc) || desc.len / sizeof(VirtqDesc) > MAX_SIZE ||
                !m_memory->slice(desc.addr, desc.len).ok())
                return guest_fault("indirect descriptor table is empty, a partial entry, larger than 256 "
                             "entries or outside guest memory");
            table = desc.addr;
            table_size = desc.len / sizeof(VirtqDesc);
            in_indirect = true;
            index = 0;
            budget = table_size + 1;  // the loop's decrement takes the indirect descriptor back
            continue;
        }
        if (!m_memory->slice(desc.addr, desc.len).ok())
            return guest_fault(fmt::format("buffer {:#x}+{:#x} is outside guest memory", desc.addr, desc.len));
        if (desc.flags & VIRTQ_DESC_F_WRITE) {
            chain.writable.push_back({desc.addr, desc.len});
            chain.writable_bytes += desc.len;
        } else {
            // §2.7.4.2: readable descriptors come before writable ones.
            if (!chain.writable.empty())
                return guest_fault("readable descriptor after a writable one");
            chain.readable.push_back({desc.addr, desc.len});
            chain.readable_bytes += desc.len;
        }
        if (chain.readable_bytes + chain.writable_bytes > MAX_CHAIN_BYTES)
            return guest_fault("descriptor chain is longer than 4 GiB");
        if (!(desc.flags & VIRTQ_DESC_F_NEXT))
            return {};
        index = desc.next;
    }
}

Status Virtqueue::add_used(uint16_t head, uint32_t written) {
    const Used element{head, written};
    return add_used(std::span(&element, 1));
}

Status Virtqueue::add_used(std::span<const Used> elements) {
    for (const auto& [head, written] : elements) {
        const uint64_t slot = m_layout.used_ring + RING_ENTRIES + USED_ELEM_SIZE * (m_next_used % m_layout.size);
        TRY(m_memory->store<uint32_t>(slot, head));
        TRY(m_memory->store<uint32_t>(slot + 4, written));
        ++m_next_used;
    }
    auto view = TRY(m_memory->slice(m_layout.used_ring + RING_IDX, sizeof(uint16_t)));
    // SAFETY: in guest memory, 2-byte aligned; release publishes the element written above.
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(view.data())).store(m_next_used, std::memory_order_release);
    return {};
}

Result<bool> Virtqueue::should_notify() {
    // The used index store must be visible before the driver's event/flags are read.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const uint16_t old_used = m_signalled_used;
    const uint16_t new_used = m_next_used;
    m_signalled_used = new_used;
    if (old_used == new_used)
        return false;
    if (m_event_idx) {
        // §2.7.10: vring_need_event(used_event, new, old).
        const uint16_t used_event =
            TRY(m_memory->load<uint16_t>(m_layout.avail_ring + RING_ENTRIES + 2ull * m_layout.size));
        return static_cast<uint16_t>(new_used - used_event - 1) < static_cast<uint16_t>(new_used - old_used);
    }
    const uint16_t flags = TRY(m_memory->load<uint16_t>(m_layout.avail_ring));
    return !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

}  // namespace vmm::virtio
