// The guest's physical memory map: RAM regions for KVM slots and the e820 table the guest sees.
#pragma once

#include <cstdint>
#include <vector>

#include "base/guest_memory.h"
#include "base/memory_map.h"

namespace vmm::arch::x86_64 {

// RAM of mem_size bytes: [0, min(mem, 3 GiB)) and the rest from 4 GiB up (MMIO hole between).
std::vector<MemoryRegionSpec> ram_regions(uint64_t mem_size);

// What the guest is told: low RAM below the EBDA, the EBDA/BIOS area reserved, RAM from 1 MiB.
std::vector<MemoryMapEntry> e820_map(uint64_t mem_size);

// Highest usable address + 1 of the RAM below the MMIO hole.
uint64_t low_ram_end(uint64_t mem_size);

}  // namespace vmm::arch::x86_64
