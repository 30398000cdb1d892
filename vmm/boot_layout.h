// What boot/ is handed of the x86 machine: where arch/x86_64's layout puts the boot
// structures, and the CPU mode each boot entry needs.
#pragma once

#include "arch/x86_64/layout.h"
#include "arch/x86_64/regs.h"
#include "boot/x86_64/boot_info.h"

namespace vmm {

inline boot::BootLayout x86_boot_layout() {
    namespace layout = arch::x86_64::layout;
    return {layout::KERNEL_LOAD_ADDR, layout::CMDLINE_ADDR, layout::CMDLINE_MAX,
            layout::ZERO_PAGE_ADDR,   layout::PVH_INFO_ADDR, layout::BIOS_END};
}

inline arch::x86_64::CpuMode cpu_mode(boot::EntryMode mode) {
    return mode == boot::EntryMode::Long64 ? arch::x86_64::CpuMode::Long64
                                           : arch::x86_64::CpuMode::Protected32;
}

}  // namespace vmm
