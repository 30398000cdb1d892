// Loads a kernel of any supported format (detected from its bytes), its initramfs and command
// line into guest memory, and writes the boot information the format's entry point expects.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "boot/boot_info.h"
#include "boot/cmdline.h"
#include "vmm/guest_memory.h"

namespace vmm::boot {

enum class KernelFormat { BzImage, Vmlinux, Pvh };

struct BootSpec {
    std::span<const uint8_t> kernel;
    std::span<const uint8_t> initrd;  // empty: none
    const KernelCmdline& cmdline;
    std::vector<E820Entry> e820;
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
