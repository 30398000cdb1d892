// CRC-64/XZ (ECMA-182 polynomial, reflected, initial and final XOR all ones): the check
// value of "123456789" is 0x995dc9bbdf1939fa. What a snapshot's state file carries.
#pragma once

#include <cstdint>
#include <span>

namespace vmm {

// `crc` continues an earlier call's result over more bytes.
uint64_t crc64(std::span<const uint8_t> bytes, uint64_t crc = 0);

}  // namespace vmm
