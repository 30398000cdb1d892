// PVH boot information (Xen's arch-x86/hvm/start_info.h, version 1), as QEMU, Firecracker and
// Cloud Hypervisor hand it to a kernel entered through XEN_ELFNOTE_PHYS32_ENTRY.
#pragma once

#include <cstdint>
#include <vector>

#include "boot/x86_64/boot_info.h"
#include "base/guest_memory.h"

namespace vmm::boot {

struct HvmStartInfo {
    uint32_t magic;  // 0x336ec578
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmModlistEntry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

struct HvmMemmapEntry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

inline constexpr uint32_t HVM_START_MAGIC = 0x336ec578;

// Writes start info, the module list (the initramfs, if any) and the memory map at `base`.
// rsdp_addr 0 means no ACPI. Returns the guest address of the start info.
Result<uint64_t> write_pvh_start_info(GuestMemory& memory, uint64_t base, uint64_t cmdline_addr,
                                      uint64_t rsdp_addr, InitrdPlacement initrd,
                                      const std::vector<MemoryMapEntry>& e820);

}  // namespace vmm::boot
