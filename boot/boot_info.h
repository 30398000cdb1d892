// What every loader hands to the boot-information writers (zero page or PVH start info).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "arch/x86_64/memory_map.h"
#include "arch/x86_64/regs.h"

namespace vmm::boot {

using arch::x86_64::E820Entry;
using arch::x86_64::EntryMode;

struct InitrdPlacement {
    uint64_t addr = 0;
    uint64_t size = 0;  // 0: no initramfs
};

// Where the vCPU starts and what it is told.
struct BootEntry {
    EntryMode mode;
    uint64_t entry;
    uint64_t boot_info;  // boot_params (Long64) or hvm_start_info (Pvh32)
};

}  // namespace vmm::boot
