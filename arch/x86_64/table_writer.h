// Appends packed firmware-table structures (MP table, ACPI) into a byte buffer.
#pragma once

#include <cstdint>
#include <cstring>
#include <numeric>
#include <type_traits>
#include <vector>

namespace vmm::arch::x86_64 {

class TableWriter {
public:
    template <typename T>
    void append(const T& value) {
        put(m_bytes.size(), value);
    }

    // Writes at `offset`, growing the buffer (zero-filled) as needed.
    template <typename T>
    void put(size_t offset, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        if (m_bytes.size() < offset + sizeof(T))
            m_bytes.resize(offset + sizeof(T));
        std::memcpy(m_bytes.data() + offset, &value, sizeof(T));
    }

    std::vector<uint8_t>& bytes() { return m_bytes; }

private:
    std::vector<uint8_t> m_bytes;
};

// The byte that makes `len` bytes at `data` sum to zero (MP and ACPI checksums).
inline uint8_t zero_sum_checksum(const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    return static_cast<uint8_t>(-std::accumulate(p, p + len, 0u));
}

}  // namespace vmm::arch::x86_64
