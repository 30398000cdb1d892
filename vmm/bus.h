// Address-range -> device dispatch for port I/O or MMIO. Built before the vCPUs start and
// immutable while they run, so lookups take no lock.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "devices/device.h"
#include "base/result.h"

namespace vmm {

class Bus {
public:
    // Rejects an empty range, one that wraps past 2^64, and one overlapping another.
    Status insert(uint64_t base, uint64_t length, std::shared_ptr<BusDevice> device);

    // Dispatch the access to the device whose range holds all of it. Reads are zero-filled
    // first. Returns false when no single device covers [addr, addr + size).
    bool read(uint64_t addr, std::span<uint8_t> data) const;
    bool write(uint64_t addr, std::span<const uint8_t> data) const;

    size_t size() const { return m_ranges.size(); }

private:
    struct Range {
        uint64_t base;
        uint64_t last;  // inclusive, so a range may end at 2^64 - 1
        std::shared_ptr<BusDevice> device;
    };
    const Range* find(uint64_t addr, uint64_t size) const;

    std::vector<Range> m_ranges;  // sorted by base, disjoint
};

}  // namespace vmm
