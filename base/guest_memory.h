// GuestMemory: the only holder of host pointers into guest RAM. Every access is bounds- and
// overflow-checked and returns a Result; nothing outside this class does pointer arithmetic
// on guest addresses.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <type_traits>
#include <vector>

#include "base/dirty_bitmap.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

struct MemoryRegionSpec {
    uint64_t gpa;
    uint64_t size;
};

struct MemoryRegion {
    uint64_t gpa;
    uint64_t size;
    uint8_t* host;
    uint64_t fd_offset = 0;  // where the region starts in GuestMemory::shared_fd()
};

// Private: anonymous memory only this process sees. Shared: one file (a memfd, or the file
// MemoryOptions::file names) mapped MAP_SHARED, so a vhost-user backend can map the same
// pages (its memory table names the fd and offsets).
enum class MemoryBacking { Private, Shared };

// Size2M: hugetlb pages, reserved from the host's pool when the memory is created (an error
// then, not a SIGBUS later). Transparent: MADV_HUGEPAGE, the kernel's THP where it can.
enum class HugePages { None, Size2M, Transparent };

struct MemoryOptions {
    MemoryBacking backing = MemoryBacking::Private;
    // The open file to map, at least as large as all regions. Shared: the guest's RAM
    // (memory_file.h; invalid: a memfd made here). Private: a snapshot's memory, mapped
    // MAP_PRIVATE (pages load on first touch, writes stay in this process; invalid: anonymous).
    UniqueFd file;
    HugePages huge_pages = HugePages::None;
    bool mergeable = false;  // MADV_MERGEABLE: KSM may merge identical pages (private memory)
    bool prefault = false;   // every page populated at creation, none faulted in later
    // Every page the VMM writes through this object is marked (take_dirty()) from the start;
    // KVM's dirty log covers the guest's own writes. For diff snapshots and migration.
    bool track_dirty = false;
};

class GuestMemory {
public:
    // Lazily populated (MAP_NORESERVE) mappings, one per region, unless options ask for
    // prefaulting or huge pages. Regions must be non-empty, page aligned (2 MiB with
    // HugePages::Size2M), sorted and disjoint.
    static Result<GuestMemory> create(std::span<const MemoryRegionSpec> specs, MemoryOptions options = {});

    Status read(uint64_t gpa, std::span<uint8_t> out) const;
    Status write(uint64_t gpa, std::span<const uint8_t> in);
    Status fill(uint64_t gpa, uint8_t value, uint64_t len);

    // A host view of [gpa, gpa+len) when it lies inside one region. With track_dirty, its
    // pages count as written (a device may write through any view it gets).
    Result<std::span<uint8_t>> slice(uint64_t gpa, uint64_t len) const;

    template <typename T>
    Result<T> load(uint64_t gpa) const {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        TRY(read(gpa, std::span(reinterpret_cast<uint8_t*>(&value), sizeof(T))));
        return value;
    }

    template <typename T>
    Status store(uint64_t gpa, const T& value) {
        static_assert(std::is_trivially_copyable_v<T>);
        // SAFETY: T is trivially copyable, so its object representation is its value.
        return write(gpa, std::span(reinterpret_cast<const uint8_t*>(&value), sizeof(T)));
    }

    const std::vector<MemoryRegion>& regions() const { return m_regions; }
    uint64_t total_size() const;
    // The file (memfd) behind MemoryBacking::Shared memory; -1 for private memory.
    int shared_fd() const { return m_shared.get(); }

    bool tracks_dirty() const { return m_tracking && m_tracking->load(std::memory_order_relaxed); }
    // Marks from now on (a migration of memory created without track_dirty). A view taken
    // before is not marked: call it while no device is between a slice() and its writes.
    void start_tracking_dirty() { m_tracking->store(true); }
    // The pages of region `index` the VMM wrote since the last call (DirtyBitmap::take()'s
    // layout); all clear while not tracking.
    std::vector<uint64_t> take_dirty(size_t index) const { return m_dirty.at(index)->take(); }

private:
    UniqueFd m_shared;
    std::vector<Mapping> m_mappings;
    std::vector<MemoryRegion> m_regions;
    std::vector<std::unique_ptr<DirtyBitmap>> m_dirty;  // per region (32 KiB per GiB)
    std::unique_ptr<std::atomic<bool>> m_tracking;      // a pointer: GuestMemory moves
};

}  // namespace vmm
