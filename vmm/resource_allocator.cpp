#include "vmm/resource_allocator.h"

#include <fmt/format.h>

namespace vmm {

ResourceAllocator::ResourceAllocator(uint64_t mmio_base, uint64_t mmio_size, std::vector<uint32_t> gsis)
    : m_mmio_base(mmio_base), m_mmio_end(mmio_base + mmio_size), m_gsi_order(std::move(gsis)),
      m_free_gsis(m_gsi_order.begin(), m_gsi_order.end()) {}

const std::pair<const uint64_t, ResourceAllocator::Window>* ResourceAllocator::overlapping(uint64_t base,
                                                                                            uint64_t size) const {
    // The window starting last at or before base + size - 1 is the only candidate to its left;
    // windows are disjoint.
    auto it = m_windows.upper_bound(base + size - 1);
    if (it == m_windows.begin())
        return nullptr;
    --it;
    return it->first + it->second.size > base ? &*it : nullptr;
}

Result<uint64_t> ResourceAllocator::allocate_mmio(uint64_t size, uint64_t align, const std::string& owner) {
    if (size == 0 || align == 0 || (align & (align - 1)))
        return Error(ErrorKind::Internal, fmt::format("{}: MMIO window of {:#x} bytes aligned to {:#x}", owner, size, align));
    uint64_t candidate = (m_mmio_base + align - 1) & ~(align - 1);
    while (candidate >= m_mmio_base && candidate <= m_mmio_end && size <= m_mmio_end - candidate) {
        const auto* taken = overlapping(candidate, size);
        if (!taken) {
            m_windows.emplace(candidate, Window{size, owner});
            return candidate;
        }
        const uint64_t after = taken->first + taken->second.size;
        candidate = (after + align - 1) & ~(align - 1);
    }
    return Error(ErrorKind::HostResource,
                 fmt::format("{}: no free MMIO window of {:#x} bytes left in {:#x}-{:#x}", owner, size,
                             m_mmio_base, m_mmio_end - 1));
}

Status ResourceAllocator::reserve_mmio(uint64_t base, uint64_t size, const std::string& owner) {
    if (size == 0 || base < m_mmio_base || base > m_mmio_end || size > m_mmio_end - base)
        return Error(ErrorKind::Internal, fmt::format("{}: MMIO window {:#x}+{:#x} is outside {:#x}-{:#x}", owner,
                                                      base, size, m_mmio_base, m_mmio_end - 1));
    if (const auto* taken = overlapping(base, size))
        return Error(ErrorKind::Busy, fmt::format("{}: MMIO window {:#x}+{:#x} overlaps {}'s at {:#x}", owner, base,
                                                  size, taken->second.owner, taken->first));
    m_windows.emplace(base, Window{size, owner});
    return {};
}

void ResourceAllocator::release_mmio(uint64_t base) { m_windows.erase(base); }

Result<uint32_t> ResourceAllocator::allocate_gsi(const std::string& owner) {
    for (uint32_t gsi : m_gsi_order) {
        if (m_free_gsis.erase(gsi))
            return gsi;
    }
    return Error(ErrorKind::HostResource,
                 fmt::format("{}: all {} interrupt lines for devices are taken", owner, m_gsi_order.size()));
}

void ResourceAllocator::release_gsi(uint32_t gsi) {
    for (uint32_t known : m_gsi_order) {
        if (known == gsi)
            m_free_gsis.insert(gsi);
    }
}

}  // namespace vmm
