#include "base/guest_memory.h"

#include <linux/memfd.h>
#include <linux/mman.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>


namespace vmm {

namespace {

constexpr uint64_t HUGE_2M = 2ull << 20;
constexpr const char* HUGE_POOL = "/sys/kernel/mm/hugepages/hugepages-2048kB/";

uint64_t total_size_of(std::span<const MemoryRegionSpec> specs) {
    uint64_t total = 0;
    for (const auto& spec : specs)
        total += spec.size;
    return total;
}

Result<UniqueFd> shared_memory_file(uint64_t total, HugePages huge_pages) {
    const unsigned flags = MFD_CLOEXEC | (huge_pages == HugePages::Size2M ? MFD_HUGETLB | MFD_HUGE_2MB : 0);
    UniqueFd fd(::memfd_create("ember-guest-ram", flags));
    if (!fd.valid())
        return Error::from_errno("memfd_create for shared guest memory");
    if (::ftruncate(fd.get(), static_cast<off_t>(total)) != 0)
        return Error::from_errno(fmt::format("sizing the {} MiB shared guest memory", total >> 20));
    return fd;
}

uint64_t pool_count(const char* name) {
    uint64_t value = 0;
    if (FILE* file = std::fopen(fmt::format("{}{}", HUGE_POOL, name).c_str(), "r")) {
        if (std::fscanf(file, "%" SCNu64, &value) != 1)
            value = 0;
        std::fclose(file);
    }
    return value;
}

// The reason a hugetlb mapping of `total` bytes failed, in the host's words: its pool of
// 2 MiB pages has fewer free (and unreserved) than the guest needs.
Error huge_pages_short(uint64_t total, int err) {
    const uint64_t needed = total / HUGE_2M;
    if (::access(HUGE_POOL, F_OK) != 0)
        return Error(ErrorKind::HostResource, "hugepages=2M: the host kernel has no 2 MiB huge pages");
    const uint64_t free_pages = pool_count("free_hugepages");
    const uint64_t reserved = pool_count("resv_hugepages");
    const uint64_t available = free_pages > reserved ? free_pages - reserved : 0;
    if (available >= needed)
        return Error(ErrorKind::HostResource, fmt::format("hugepages=2M: mapping {} MiB of huge pages failed: {}",
                                                          total >> 20, std::strerror(err)));
    return Error(ErrorKind::HostResource, fmt::format("hugepages=2M: the guest needs {} free 2 MiB huge pages, the host has {} "
                             "(reserve them as root: echo {} > /proc/sys/vm/nr_hugepages)",
                             needed, available, pool_count("nr_hugepages") + needed - available));
}

// KSM, THP and prefaulting for one region's mapping.
Status advise(void* addr, uint64_t size, const MemoryOptions& options) {
    if (options.mergeable && ::madvise(addr, size, MADV_MERGEABLE) != 0)
        return errno == EINVAL ? Error(ErrorKind::HostResource, "mergeable=on: the host kernel has no KSM (CONFIG_KSM)")
                               : Error::from_errno("madvise(MADV_MERGEABLE) of guest memory");
    if (options.huge_pages == HugePages::Transparent && ::madvise(addr, size, MADV_HUGEPAGE) != 0)
        return errno == EINVAL ? Error(ErrorKind::HostResource,
                                       "hugepages=transparent: the host kernel has no transparent huge pages")
                               : Error::from_errno("madvise(MADV_HUGEPAGE) of guest memory");
    if (options.prefault && ::madvise(addr, size, MADV_POPULATE_WRITE) != 0)
        return Error::from_errno(fmt::format("prefault=on: populating {} MiB of guest memory", size >> 20));
    return {};
}

}  // namespace

Result<GuestMemory> GuestMemory::create(std::span<const MemoryRegionSpec> specs, MemoryOptions options) {
    const bool huge = options.huge_pages == HugePages::Size2M;
    const uint64_t page = huge ? HUGE_2M : static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    GuestMemory memory;
    memory.m_tracking = std::make_unique<std::atomic<bool>>(options.track_dirty);
    uint64_t previous_end = 0;
    uint64_t fd_offset = 0;
    for (const auto& spec : specs) {
        if (spec.size == 0 || spec.gpa % page || spec.size % page)
            return Error(ErrorKind::Internal, fmt::format("guest memory region at {:#x} is empty or unaligned", spec.gpa));
        if (spec.gpa < previous_end || spec.gpa + spec.size < spec.gpa)
            return Error(ErrorKind::Internal, fmt::format("guest memory region at {:#x} overlaps or overflows", spec.gpa));
        previous_end = spec.gpa + spec.size;
    }
    const bool shared = options.backing == MemoryBacking::Shared;
    if (shared)
        memory.m_shared = options.file.valid() ? std::move(options.file)
                                               : TRY(shared_memory_file(total_size_of(specs), options.huge_pages));
    // A file mapped privately (a snapshot's memory) is read, never written; it is not kept.
    const UniqueFd private_file = shared ? UniqueFd() : std::move(options.file);
    const int fd = shared ? memory.m_shared.get() : private_file.get();
    // Huge pages are reserved at mmap (no MAP_NORESERVE), so a short pool fails here.
    int flags = shared ? MAP_SHARED : MAP_PRIVATE | (fd < 0 ? MAP_ANONYMOUS : 0);
    flags |= huge ? (fd >= 0 ? 0 : MAP_HUGETLB | MAP_HUGE_2MB) : MAP_NORESERVE;
    for (const auto& spec : specs) {
        void* addr = ::mmap(nullptr, spec.size, PROT_READ | PROT_WRITE, flags, fd,
                            fd >= 0 ? static_cast<off_t>(fd_offset) : 0);
        if (addr == MAP_FAILED && huge && errno == ENOMEM)
            return huge_pages_short(total_size_of(specs), errno);
        if (addr == MAP_FAILED)
            return Error::from_errno(fmt::format("mmap of {} MiB guest memory", spec.size >> 20));
        memory.m_mappings.emplace_back(addr, spec.size);
        TRY(advise(addr, spec.size, options));
        memory.m_regions.push_back({spec.gpa, spec.size, static_cast<uint8_t*>(addr), fd_offset});
        memory.m_dirty.push_back(std::make_unique<DirtyBitmap>(spec.size / DIRTY_PAGE_SIZE));
        fd_offset += spec.size;
    }
    return memory;
}

Result<std::span<uint8_t>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
    for (size_t i = 0; i < m_regions.size(); ++i) {
        const MemoryRegion& region = m_regions[i];
        if (gpa < region.gpa || gpa - region.gpa >= region.size)
            continue;
        const uint64_t offset = gpa - region.gpa;
        if (len > region.size - offset)
            break;
        if (tracks_dirty())
            m_dirty[i]->mark(offset, len);
        return std::span<uint8_t>(region.host + offset, len);
    }
    return Error(fmt::format("guest range {:#x}+{:#x} is outside guest memory", gpa, len));
}

// An empty span may have a null data(): memcpy must not see it (UB even for 0 bytes).
Status GuestMemory::read(uint64_t gpa, std::span<uint8_t> out) const {
    auto view = TRY(slice(gpa, out.size()));
    if (!out.empty())
        std::memcpy(out.data(), view.data(), out.size());
    return {};
}

Status GuestMemory::write(uint64_t gpa, std::span<const uint8_t> in) {
    auto view = TRY(slice(gpa, in.size()));
    if (!in.empty())
        std::memcpy(view.data(), in.data(), in.size());
    return {};
}

Status GuestMemory::fill(uint64_t gpa, uint8_t value, uint64_t len) {
    auto view = TRY(slice(gpa, len));
    std::memset(view.data(), value, len);
    return {};
}

uint64_t GuestMemory::total_size() const {
    uint64_t total = 0;
    for (const auto& region : m_regions)
        total += region.size;
    return total;
}

}  // namespace vmm
