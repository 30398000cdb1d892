// MSI-X (PCI Local Bus 3.0 §6.8.2): the vector table and pending-bit array a function exposes
// in a BAR, the function mask and enable bits of its capability, per-vector masks. A signal on
// a masked vector sets its pending bit; unmasking delivers it (§6.8.2.9). Delivery itself is
// handed in (MsiSink: in Ember, KVM GSI routes and irqfds).
// Not thread-safe: the function that owns it serializes access.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace vmm::pci {

struct MsiMessage {
    uint64_t address = 0;
    uint32_t data = 0;
    bool operator==(const MsiMessage&) const = default;
};

class MsiSink {
public:
    virtual ~MsiSink() = default;
    virtual void deliver(uint16_t vector, const MsiMessage& message) = 0;
};

class Msix {
public:
    static constexpr size_t ENTRY_SIZE = 16;
    static constexpr uint16_t MAX_VECTORS = 2048;
    // Message Control (§6.8.2.3).
    static constexpr uint16_t CONTROL_ENABLE = 1u << 15;
    static constexpr uint16_t CONTROL_FUNCTION_MASK = 1u << 14;

    Msix(uint16_t vectors, MsiSink& sink);

    uint16_t vector_count() const { return static_cast<uint16_t>(m_entries.size()); }
    size_t table_bytes() const { return m_entries.size() * ENTRY_SIZE; }
    size_t pba_bytes() const { return (m_entries.size() + 63) / 64 * 8; }
    // The read-only part of Message Control: the table size, encoded as N - 1.
    uint16_t table_size_field() const { return static_cast<uint16_t>(m_entries.size() - 1); }

    // Software wrote Message Control.
    void set_control(uint16_t control);
    bool enabled() const { return m_enabled; }

    // Table and PBA accesses: aligned DWORD or QWORD only (§6.8.2); others read as zero and
    // are ignored. `offset` is relative to the table or PBA.
    void read_table(uint64_t offset, std::span<uint8_t> data) const;
    void write_table(uint64_t offset, std::span<const uint8_t> data);
    void read_pba(uint64_t offset, std::span<uint8_t> data) const;

    // Signals `vector` (enabled MSI-X only): delivered now, or pending while masked. A vector
    // beyond the table is dropped.
    void signal(uint16_t vector);
    bool pending(uint16_t vector) const { return vector < m_entries.size() && m_entries[vector].pending; }

    // Power-on state: disabled, every vector masked, nothing pending.
    void reset();

private:
    struct Entry {
        MsiMessage message;
        uint32_t control = 1;  // bit 0: masked
        bool pending = false;
    };
    bool masked(const Entry& entry) const { return m_function_masked || (entry.control & 1); }
    void deliver_unmasked_pending();

    MsiSink& m_sink;
    std::vector<Entry> m_entries;
    bool m_enabled = false;
    bool m_function_masked = false;
};

}  // namespace vmm::pci
