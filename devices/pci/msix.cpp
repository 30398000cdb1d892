#include "devices/pci/msix.h"

#include <cstring>

namespace vmm::pci {

namespace {

bool aligned_dword_or_qword(uint64_t offset, size_t size) {
    return (size == 4 || size == 8) && offset % size == 0;
}

}  // namespace

Msix::Msix(uint16_t vectors, MsiSink& sink)
    : m_sink(sink), m_entries(vectors == 0 ? 1 : vectors > MAX_VECTORS ? MAX_VECTORS : vectors) {}

void Msix::reset() {
    for (auto& entry : m_entries)
        entry = Entry{};
    m_enabled = false;
    m_function_masked = false;
}

void Msix::set_control(uint16_t control) {
    m_enabled = control & CONTROL_ENABLE;
    m_function_masked = control & CONTROL_FUNCTION_MASK;
    deliver_unmasked_pending();
}

void Msix::read_table(uint64_t offset, std::span<uint8_t> data) const {
    if (!aligned_dword_or_qword(offset, data.size()) || offset >= table_bytes())
        return;
    for (size_t done = 0; done < data.size(); done += 4) {
        const uint64_t at = offset + done;
        const Entry& entry = m_entries[at / ENTRY_SIZE];
        uint32_t value = 0;
        switch (at % ENTRY_SIZE) {
        case 0: value = static_cast<uint32_t>(entry.message.address); break;
        case 4: value = static_cast<uint32_t>(entry.message.address >> 32); break;
        case 8: value = entry.message.data; break;
        case 12: value = entry.control; break;
        }
        std::memcpy(&data[done], &value, 4);
    }
}

void Msix::write_table(uint64_t offset, std::span<const uint8_t> data) {
    if (!aligned_dword_or_qword(offset, data.size()) || offset >= table_bytes())
        return;
    for (size_t done = 0; done < data.size(); done += 4) {
        const uint64_t at = offset + done;
        Entry& entry = m_entries[at / ENTRY_SIZE];
        uint32_t value;
        std::memcpy(&value, &data[done], 4);
        switch (at % ENTRY_SIZE) {
        case 0: entry.message.address = (entry.message.address & ~0xffffffffull) | value; break;
        case 4: entry.message.address = (entry.message.address & 0xffffffffull) | uint64_t{value} << 32; break;
        case 8: entry.message.data = value; break;
        case 12: entry.control = value & 1; break;  // the other bits are reserved
        }
    }
    deliver_unmasked_pending();
}

void Msix::read_pba(uint64_t offset, std::span<uint8_t> data) const {
    if (!aligned_dword_or_qword(offset, data.size()) || offset >= pba_bytes())
        return;
    for (size_t byte = 0; byte < data.size(); ++byte) {
        uint8_t bits = 0;
        for (size_t bit = 0; bit < 8; ++bit) {
            const uint64_t vector = (offset + byte) * 8 + bit;
            if (vector < m_entries.size() && m_entries[vector].pending)
                bits |= static_cast<uint8_t>(1u << bit);
        }
        data[byte] = bits;
    }
}

void Msix::signal(uint16_t vector) {
    if (!m_enabled || vector >= m_entries.size())
        return;
    Entry& entry = m_entries[vector];
    if (masked(entry)) {
        entry.pending = true;
        return;
    }
    m_sink.deliver(vector, entry.message);
}

void Msix::deliver_unmasked_pending() {
    if (!m_enabled)
        return;
    for (size_t vector = 0; vector < m_entries.size(); ++vector) {
        Entry& entry = m_entries[vector];
        if (entry.pending && !masked(entry)) {
            entry.pending = false;
            m_sink.deliver(static_cast<uint16_t>(vector), entry.message);
        }
    }
}

}  // namespace vmm::pci
