#include "arch/x86_64/memory_map.h"

#include <algorithm>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {

uint64_t low_ram_end(uint64_t mem_size) { return std::min(mem_size, layout::MMIO_GAP_START); }

std::vector<MemoryRegionSpec> ram_regions(uint64_t mem_size) {
    std::vector<MemoryRegionSpec> regions{{0, low_ram_end(mem_size)}};
    if (mem_size > layout::MMIO_GAP_START)
        regions.push_back({layout::MMIO_GAP_END, mem_size - layout::MMIO_GAP_START});
    return regions;
}

std::vector<MemoryMapEntry> e820_map(uint64_t mem_size) {
    std::vector<MemoryMapEntry> map{
        {0, layout::EBDA_START, MemoryType::Ram},
        {layout::EBDA_START, layout::BIOS_END - layout::EBDA_START, MemoryType::Reserved},
        {layout::BIOS_END, low_ram_end(mem_size) - layout::BIOS_END, MemoryType::Ram},
    };
    if (mem_size > layout::MMIO_GAP_START)
        map.push_back({layout::MMIO_GAP_END, mem_size - layout::MMIO_GAP_START, MemoryType::Ram});
    return map;
}

}  // namespace vmm::arch::x86_64
