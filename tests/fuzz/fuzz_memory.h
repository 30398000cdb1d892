// Guest memory for fuzzers: a fixed-size region whose bytes come from the fuzz input, so
// every descriptor, ring index and request header is attacker-chosen.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include <spdlog/spdlog.h>

#include "base/guest_memory.h"

namespace vmm::fuzz {

// Guest-triggered warnings (needs-reset, drop summaries) would be printed for every input.
inline const bool quiet_logs = [] {
    spdlog::set_level(spdlog::level::off);
    return true;
}();

inline constexpr uint64_t MEMORY_SIZE = 0x10000;
// The available ring first, then the descriptors: short inputs already reach both.
inline constexpr uint64_t AVAIL = 0x0000, DESC = 0x0300, USED = 0x2000;

inline GuestMemory memory_from(std::span<const uint8_t> input) {
    const MemoryRegionSpec spec[] = {{0, MEMORY_SIZE}};
    auto memory = std::move(GuestMemory::create(spec).value());
    auto all = memory.slice(0, MEMORY_SIZE).value();
    std::memcpy(all.data(), input.data(), std::min<size_t>(input.size(), all.size()));
    return memory;
}

// A path to an in-memory disk of `bytes` (memfd), created once per process.
inline std::string memfd_disk(off_t bytes) {
    int fd = ::memfd_create("ember-fuzz-disk", 0);
    if (fd < 0 || ::ftruncate(fd, bytes) < 0)
        __builtin_trap();
    return "/proc/self/fd/" + std::to_string(fd);
}

}  // namespace vmm::fuzz
