// What the PCI root complex sees of a function: its configuration space and the memory its
// BARs decode. Each function serializes its own accesses (vCPU threads call these directly).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace vmm::pci {

class PciFunction {
public:
    virtual ~PciFunction() = default;
    // `offset + data.size()` lies within CONFIG_SIZE and the access is 1, 2 or 4 bytes,
    // naturally aligned (the root checks).
    virtual void config_read(uint64_t offset, std::span<uint8_t> data) = 0;
    virtual void config_write(uint64_t offset, std::span<const uint8_t> data) = 0;
    // A memory access at guest address `address`: true when one of the function's decoding
    // BARs holds all of it (and the access was served).
    virtual bool mmio_read(uint64_t address, std::span<uint8_t> data) = 0;
    virtual bool mmio_write(uint64_t address, std::span<const uint8_t> data) = 0;
};

// Told when a BAR starts decoding at a new place or stops decoding (nullopt), so that what sits
// on its addresses outside the device model (ioeventfds) moves with it.
class BarListener {
public:
    virtual ~BarListener() = default;
    virtual void bar_moved(unsigned bar, std::optional<uint64_t> from, std::optional<uint64_t> to) = 0;
};

}  // namespace vmm::pci
