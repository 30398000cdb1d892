// The machine's assignable resources, handed out once each: MMIO windows from an address
// range and interrupt lines (GSIs) from a fixed list (later PCI BDFs and MSI vectors).
// Allocation is deterministic (lowest free first), so the same configuration always gives
// the same machine. Refuses overlap and reports exhaustion.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"

namespace vmm {

class ResourceAllocator {
public:
    // MMIO windows come from [mmio_base, mmio_base + mmio_size); GSIs from `gsis`.
    ResourceAllocator(uint64_t mmio_base, uint64_t mmio_size, std::vector<uint32_t> gsis);

    // The lowest free window of `size` bytes aligned to `align` (a power of two), for `owner`
    // (named in errors).
    Result<uint64_t> allocate_mmio(uint64_t size, uint64_t align, const std::string& owner);
    // A window at a fixed address; refused when it overlaps one handed out, or leaves the range.
    Status reserve_mmio(uint64_t base, uint64_t size, const std::string& owner);
    void release_mmio(uint64_t base);

    Result<uint32_t> allocate_gsi(const std::string& owner);
    void release_gsi(uint32_t gsi);

    size_t free_gsis() const { return m_free_gsis.size(); }

private:
    struct Window {
        uint64_t size;
        std::string owner;
    };
    // The window handed out that overlaps [base, base + size), if any.
    const std::pair<const uint64_t, Window>* overlapping(uint64_t base, uint64_t size) const;

    uint64_t m_mmio_base;
    uint64_t m_mmio_end;  // exclusive
    std::map<uint64_t, Window> m_windows;  // by base
    std::vector<uint32_t> m_gsi_order;     // allocation order
    std::set<uint32_t> m_free_gsis;
};

}  // namespace vmm
