// What every loader hands to the boot-information writers (zero page or PVH start info).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/memory_map.h"
#include "boot/initrd.h"

namespace vmm::boot {

// How the boot vCPU enters the kernel; the architecture sets up the CPU state for it.
enum class EntryMode {
    Long64,  // Linux 64-bit boot protocol: long mode, paging on, RSI = boot_params
    Pvh32,   // PVH: flat 32-bit protected mode, paging off, EBX = hvm_start_info
};

// Where the machine's layout puts the boot structures (handed in: boot/ knows no machine).
struct BootLayout {
    uint64_t kernel_load_addr;  // a bzImage's protected-mode kernel
    uint64_t cmdline_addr;
    uint64_t cmdline_max;       // bytes reserved at cmdline_addr, NUL included
    uint64_t zero_page_addr;    // boot_params
    uint64_t pvh_info_addr;     // hvm_start_info and its tables
    uint64_t reserved_end;      // below this (real-mode area, BIOS) no kernel is loaded
};

// Where the vCPU starts and what it is told.
struct BootEntry {
    EntryMode mode;
    uint64_t entry;
    uint64_t boot_info;  // boot_params (Long64) or hvm_start_info (Pvh32)
};

}  // namespace vmm::boot
