#include "base/crc64.h"

#include <array>

namespace vmm {

namespace {

constexpr uint64_t POLYNOMIAL = 0xc96c5795d7870f42ull;  // ECMA-182, reflected

constexpr std::array<uint64_t, 256> make_table() {
    std::array<uint64_t, 256> table{};
    for (uint64_t i = 0; i < 256; ++i) {
        uint64_t value = i;
        for (int bit = 0; bit < 8; ++bit)
            value = (value >> 1) ^ ((value & 1) ? POLYNOMIAL : 0);
        table[i] = value;
    }
    return table;
}

constexpr auto TABLE = make_table();

}  // namespace

uint64_t crc64(std::span<const uint8_t> bytes, uint64_t crc) {
    crc = ~crc;
    for (uint8_t byte : bytes)
        crc = TABLE[(crc ^ byte) & 0xff] ^ (crc >> 8);
    return ~crc;
}

}  // namespace vmm
