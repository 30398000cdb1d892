#include "boot/initrd.h"

#include <algorithm>

#include <fmt/format.h>

namespace vmm::boot {

namespace {

constexpr uint64_t PAGE = 4096;

uint64_t align_up(uint64_t v) { return (v + PAGE - 1) & ~(PAGE - 1); }

}  // namespace

Result<InitrdPlacement> place_initrd(uint64_t size, uint64_t kernel_end, uint64_t limit,
                                     uint64_t addr_max) {
    const uint64_t top = addr_max == UINT64_MAX ? limit : std::min(limit, addr_max + 1);
    const uint64_t floor = align_up(kernel_end);
    if (size > top || top - size < floor)
        return Error(fmt::format("initramfs of {} bytes does not fit in guest memory between "
                                 "{:#x} and {:#x}; give the guest more --memory",
                                 size, floor, top));
    const uint64_t addr = (top - size) & ~(PAGE - 1);
    return InitrdPlacement{addr, size};
}

Result<InitrdPlacement> load_initrd(GuestMemory& memory, std::span<const uint8_t> initrd,
                                    uint64_t kernel_end, uint64_t limit, uint64_t addr_max) {
    if (initrd.empty())
        return InitrdPlacement{};
    const auto placement = TRY(place_initrd(initrd.size(), kernel_end, limit, addr_max));
    TRY(memory.write(placement.addr, initrd));
    return placement;
}

}  // namespace vmm::boot
