// ELF kernels: ELF64 x86_64 vmlinux (PT_LOAD segments placed by physical address, 64-bit
// entry), and PVH, ELF64 or ELF32 i386 (the XEN_ELFNOTE_PHYS32_ENTRY note gives a 32-bit
// protected-mode entry point).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/result.h"

namespace vmm::boot {

struct ElfSegment {
    uint64_t paddr;
    std::span<const uint8_t> data;  // file bytes; the rest up to memsz is zero
    uint64_t memsz;
};

struct ElfKernel {
    uint64_t entry;                     // e_entry: the 64-bit entry (vmlinux)
    std::optional<uint32_t> pvh_entry;  // from the PVH note, when present
    std::vector<ElfSegment> segments;
    uint64_t lowest_paddr;
    uint64_t end;                       // highest paddr + memsz over all segments
};

bool is_elf(std::span<const uint8_t> image);

// Validates headers, segments and notes against the file size; `image` must outlive the result.
Result<ElfKernel> parse_elf(std::span<const uint8_t> image);

}  // namespace vmm::boot
