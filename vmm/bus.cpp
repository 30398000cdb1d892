#include "vmm/bus.h"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace vmm {

Status Bus::insert(uint64_t base, uint64_t length, std::shared_ptr<BusDevice> device) {
    if (length == 0)
        return Error(ErrorKind::Internal, fmt::format("bus range at {:#x} has zero length", base));
    if (base + (length - 1) < base)
        return Error(ErrorKind::Internal, fmt::format("bus range {:#x}+{:#x} wraps around", base, length));
    const uint64_t last = base + (length - 1);
    auto next = std::upper_bound(m_ranges.begin(), m_ranges.end(), base,
                                 [](uint64_t b, const Range& r) { return b < r.base; });
    if (next != m_ranges.end() && next->base <= last)
        return Error(ErrorKind::Internal, fmt::format("bus range {:#x}-{:#x} ({}) overlaps {}", base, last,
                                 device->name(), next->device->name()));
    if (next != m_ranges.begin() && std::prev(next)->last >= base)
        return Error(ErrorKind::Internal, fmt::format("bus range {:#x}-{:#x} ({}) overlaps {}", base, last,
                                 device->name(), std::prev(next)->device->name()));
    m_ranges.insert(next, Range{base, last, std::move(device)});
    return {};
}

const Bus::Range* Bus::find(uint64_t addr, uint64_t size) const {
    if (size == 0 || addr + (size - 1) < addr)
        return nullptr;
    auto next = std::upper_bound(m_ranges.begin(), m_ranges.end(), addr,
                                 [](uint64_t a, const Range& r) { return a < r.base; });
    if (next == m_ranges.begin())
        return nullptr;
    const Range& range = *std::prev(next);
    // The whole access must fit the device, not only its first byte.
    if (addr + (size - 1) > range.last)
        return nullptr;
    return &range;
}

bool Bus::read(uint64_t addr, std::span<uint8_t> data) const {
    std::memset(data.data(), 0, data.size());
    const Range* range = find(addr, data.size());
    if (!range)
        return false;
    range->device->read(addr - range->base, data);
    return true;
}

bool Bus::write(uint64_t addr, std::span<const uint8_t> data) const {
    const Range* range = find(addr, data.size());
    if (!range)
        return false;
    range->device->write(addr - range->base, data);
    return true;
}

}  // namespace vmm
