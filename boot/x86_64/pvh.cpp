#include "boot/x86_64/pvh.h"

#include <fmt/format.h>

namespace vmm::boot {

namespace {

constexpr uint64_t MAX_MEMMAP_ENTRIES = 32;

}  // namespace

Result<uint64_t> write_pvh_start_info(GuestMemory& memory, uint64_t base, uint64_t cmdline_addr,
                                      uint64_t rsdp_addr, InitrdPlacement initrd,
                                      const std::vector<MemoryMapEntry>& e820) {
    if (e820.size() > MAX_MEMMAP_ENTRIES)
        return Error(fmt::format("{} memory map entries do not fit the PVH area", e820.size()));
    const uint64_t modlist_addr = base + sizeof(HvmStartInfo);
    const uint64_t memmap_addr = modlist_addr + sizeof(HvmModlistEntry);

    HvmStartInfo info{};
    info.magic = HVM_START_MAGIC;
    info.version = 1;
    info.cmdline_paddr = cmdline_addr;
    info.rsdp_paddr = rsdp_addr;
    info.memmap_paddr = memmap_addr;
    info.memmap_entries = static_cast<uint32_t>(e820.size());
    if (initrd.size) {
        info.nr_modules = 1;
        info.modlist_paddr = modlist_addr;
        TRY(memory.store(modlist_addr, HvmModlistEntry{initrd.addr, initrd.size, 0, 0}));
    }
    for (size_t i = 0; i < e820.size(); ++i) {
        const HvmMemmapEntry entry{e820[i].addr, e820[i].size, static_cast<uint32_t>(e820[i].type), 0};
        TRY(memory.store(memmap_addr + i * sizeof(HvmMemmapEntry), entry));
    }
    TRY(memory.store(base, info));
    return base;
}

}  // namespace vmm::boot
