#include "base/guest_memory.h"

#include <sys/mman.h>
#include <unistd.h>

#include <fmt/format.h>


namespace vmm {

namespace {

Result<UniqueFd> shared_memory_file(std::span<const MemoryRegionSpec> specs) {
    uint64_t total = 0;
    for (const auto& spec : specs)
        total += spec.size;
    UniqueFd fd(::memfd_create("ember-guest-ram", MFD_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno("memfd_create for shared guest memory");
    if (::ftruncate(fd.get(), static_cast<off_t>(total)) != 0)
        return Error::from_errno(fmt::format("sizing the {} MiB shared guest memory", total >> 20));
    return fd;
}

}  // namespace

Result<GuestMemory> GuestMemory::create(std::span<const MemoryRegionSpec> specs, MemoryBacking backing) {
    const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
    GuestMemory memory;
    uint64_t previous_end = 0;
    uint64_t fd_offset = 0;
    for (const auto& spec : specs) {
        if (spec.size == 0 || spec.gpa % page || spec.size % page)
            return Error(ErrorKind::Internal, fmt::format("guest memory region at {:#x} is empty or unaligned", spec.gpa));
        if (spec.gpa < previous_end || spec.gpa + spec.size < spec.gpa)
            return Error(ErrorKind::Internal, fmt::format("guest memory region at {:#x} overlaps or overflows", spec.gpa));
        previous_end = spec.gpa + spec.size;
    }
    if (backing == MemoryBacking::Shared)
        memory.m_shared = TRY(shared_memory_file(specs));
    for (const auto& spec : specs) {
        const bool shared = memory.m_shared.valid();
        const int flags = shared ? MAP_SHARED | MAP_NORESERVE : MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
        void* addr = ::mmap(nullptr, spec.size, PROT_READ | PROT_WRITE, flags, memory.m_shared.get(),
                            shared ? static_cast<off_t>(fd_offset) : 0);
        if (addr == MAP_FAILED)
            return Error::from_errno(fmt::format("mmap of {} MiB guest memory", spec.size >> 20));
        memory.m_mappings.emplace_back(addr, spec.size);
        memory.m_regions.push_back({spec.gpa, spec.size, static_cast<uint8_t*>(addr), fd_offset});
        fd_offset += spec.size;
    }
    return memory;
}

Result<std::span<uint8_t>> GuestMemory::slice(uint64_t gpa, uint64_t len) const {
    for (const auto& region : m_regions) {
        if (gpa < region.gpa || gpa - region.gpa >= region.size)
            continue;
        const uint64_t offset = gpa - region.gpa;
        if (len > region.size - offset)
            break;
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
