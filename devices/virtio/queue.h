// Split virtqueue (VIRTIO 1.2 §2.7), device side. Validated once at activation and on every
// chain pop: a broken driver gets an error (the device then needs a reset), never an
// out-of-bounds host access. Knows nothing about any device type.
#pragma once

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "base/guest_memory.h"

namespace vmm::virtio {

// §2.7.5 The Virtqueue Descriptor Table.
struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);

inline constexpr uint16_t VIRTQ_DESC_F_NEXT = 1;
inline constexpr uint16_t VIRTQ_DESC_F_WRITE = 2;
inline constexpr uint16_t VIRTQ_DESC_F_INDIRECT = 4;
inline constexpr uint16_t VIRTQ_AVAIL_F_NO_INTERRUPT = 1;

// One guest buffer of a chain, already checked to lie inside guest memory.
struct Buffer {
    uint64_t addr;
    uint32_t len;
};

// A popped chain as device code sees it: readable buffers, then writable ones.
struct DescriptorChain {
    uint16_t head = 0;
    std::vector<Buffer> readable;
    std::vector<Buffer> writable;
    uint64_t readable_bytes = 0;
    uint64_t writable_bytes = 0;

    void clear();
};

struct QueueLayout {
    uint16_t size = 0;
    uint64_t desc_table = 0;
    uint64_t avail_ring = 0;
    uint64_t used_ring = 0;
    bool operator==(const QueueLayout&) const = default;
};

class Virtqueue {
public:
    static constexpr uint16_t MAX_SIZE = 256;

    // §2.7 / §4.2.3.2: size a power of two no larger than MAX_SIZE, rings aligned (16/2/4)
    // and wholly inside guest memory.
    static Result<Virtqueue> create(GuestMemory& memory, const QueueLayout& layout, bool event_idx,
                                    bool indirect);

    // Pops the next available chain into `chain` (reusing its storage). Returns false when
    // the driver has made nothing new available.
    Result<bool> pop(DescriptorChain& chain);

    // Gives back the last `count` popped chains, not yet used, to be popped again later (a
    // device that found it needs more buffers than the driver has posted).
    void undo_pop(uint16_t count) { m_next_avail = static_cast<uint16_t>(m_next_avail - count); }

    // Whether the driver has made chains available that pop() has not taken yet.
    bool has_available() const;

    // Returns a chain to the driver with the number of bytes written into it.
    Status add_used(uint16_t head, uint32_t written);
    // Returns several chains (head, bytes written) at once: the driver sees all of them or none,
    // as a mergeable receive's buffers of one frame must appear (§5.1.6.4: the driver reads
    // num_buffers from the first and takes the rest at once).
    using Used = std::pair<uint16_t, uint32_t>;
    Status add_used(std::span<const Used> elements);

    // Whether the driver asked to be interrupted for what was added since the last call
    // (used_event with EVENT_IDX, else the NO_INTERRUPT flag).
    Result<bool> should_notify();

    uint16_t size() const { return m_layout.size; }
    uint16_t next_avail() const { return m_next_avail; }

    // Everything the device side keeps of a queue; the rings themselves are guest memory.
    struct State {
        QueueLayout layout;
        bool event_idx = false;
        bool indirect = false;
        uint16_t next_avail = 0;
        uint16_t next_used = 0;
        uint16_t signalled_used = 0;
        bool operator==(const State&) const = default;
    };
    State save() const;
    // Checks the layout as create() does (the state may come from a file).
    static Result<Virtqueue> restore(GuestMemory& memory, const State& state);

private:
    Virtqueue(GuestMemory& memory, const QueueLayout& layout, bool event_idx, bool indirect)
        : m_memory(&memory), m_layout(layout), m_event_idx(event_idx), m_indirect(indirect) {}

    Result<uint16_t> load_avail_idx() const;
    Status read_chain(uint16_t head, DescriptorChain& chain) const;
    Status publish_avail_event();

    GuestMemory* m_memory;
    QueueLayout m_layout;
    bool m_event_idx;
    bool m_indirect;
    uint16_t m_next_avail = 0;
    uint16_t m_next_used = 0;
    uint16_t m_signalled_used = 0;
};

}  // namespace vmm::virtio
