// Loads a kernel of any supported format (detected from its bytes), its initramfs and command
// line into guest memory, and writes the boot information the format's entry point expects.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/guest_memory.h"
#include "boot/cmdline.h"
#include "boot/x86_64/boot_info.h"

namespace vmm::boot {

enum class KernelFormat { BzImage, Vmlinux, Pvh };

struct BootSpec {
    std::span<const uint8_t> kernel;
    std::span<const uint8_t> initrd;  // empty: none
    const KernelCmdline& cmdline;
    BootLayout layout;
    std::vector<MemoryMapEntry> e820;
    uint64_t low_ram_end;             // end of RAM below the MMIO hole
    uint64_t acpi_rsdp = 0;           // given to PVH kernels; 0: none
};

struct LoadedKernel {
    KernelFormat format;
    BootEntry entry;
    InitrdPlacement initrd;
};

Result<LoadedKernel> load_kernel(GuestMemory& memory, const BootSpec& spec);

const char* format_name(KernelFormat format);

}  // namespace vmm::boot
