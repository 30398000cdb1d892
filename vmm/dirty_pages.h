// The guest RAM pages written since a point: KVM's dirty log (the guest's writes) together with
// GuestMemory's own marks (the VMM's writes), one bitmap per memory region (= KVM slot), one
// bit per 4 KiB page. For diff snapshots and the pre-copy rounds of a migration.
#pragma once

#include <cstdint>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "vmm/kvm.h"

namespace vmm {

struct DirtyPages {
    std::vector<std::vector<uint64_t>> regions;  // DirtyBitmap::take()'s layout, per region

    // None of `memory`'s pages; every one of them.
    static DirtyPages none(const GuestMemory& memory);
    static DirtyPages all(const GuestMemory& memory);

    bool test(size_t region, uint64_t page) const { return regions[region][page / 64] >> (page % 64) & 1; }
    uint64_t count() const;
    void merge(const DirtyPages& other);
};

// What changed since the last call (both logs are cleared as they are read). The memory's
// slots must log dirty pages and the memory track the VMM's writes.
Result<DirtyPages> collect_dirty_pages(const Vm& vm, const GuestMemory& memory);

}  // namespace vmm
