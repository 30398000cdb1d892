// The Linux "zero page" (struct boot_params, Documentation/arch/x86/zero-page.rst).
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <span>
#include <vector>

#include "boot/x86_64/boot_info.h"
#include "base/guest_memory.h"

namespace vmm::boot {

struct ZeroPageSpec {
    std::span<const uint8_t> setup_header;  // from a bzImage; empty for vmlinux
    uint64_t cmdline_addr;
    uint32_t cmdline_capacity;
    InitrdPlacement initrd;
    std::vector<MemoryMapEntry> e820;
};

// Builds boot_params; fails when the e820 map has more entries than the zero page holds.
Result<boot_params> build_zero_page(const ZeroPageSpec& spec);

}  // namespace vmm::boot
