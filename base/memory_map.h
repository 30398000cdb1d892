// One range of the guest's physical address map as the guest is told of it (the e820 table,
// PVH's memory map, later a device tree's memory nodes).
#pragma once

#include <cstdint>

namespace vmm {

// The values are the e820 / PVH memory map types.
enum class MemoryType : uint32_t { Ram = 1, Reserved = 2 };

struct MemoryMapEntry {
    uint64_t addr;
    uint64_t size;
    MemoryType type;
    bool operator==(const MemoryMapEntry&) const = default;
};

}  // namespace vmm
