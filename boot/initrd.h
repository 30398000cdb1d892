// Placing the initramfs: as high as allowed, page aligned, above the kernel.
#pragma once

#include <cstdint>
#include <span>

#include "base/guest_memory.h"

namespace vmm::boot {

struct InitrdPlacement {
    uint64_t addr = 0;
    uint64_t size = 0;  // 0: no initramfs
};

// Highest page-aligned address with addr >= kernel_end and addr + size <= min(limit, addr_max + 1).
// `limit` is the end of usable low RAM; `addr_max` the kernel's initrd_addr_max.
Result<InitrdPlacement> place_initrd(uint64_t size, uint64_t kernel_end, uint64_t limit,
                                     uint64_t addr_max);

// Places and copies the initramfs. An empty span means none: returns {0, 0}.
Result<InitrdPlacement> load_initrd(GuestMemory& memory, std::span<const uint8_t> initrd,
                                    uint64_t kernel_end, uint64_t limit, uint64_t addr_max);

}  // namespace vmm::boot
