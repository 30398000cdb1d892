// --memory: the guest's RAM size and how the host backs it (anonymous memory, a memfd, a file;
// huge pages; KSM; prefaulting), parsed and checked once for the CLI and the API.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vmm {

struct MemoryConfig {
    // Default: anonymous memory, or a memfd when a vhost-user device needs shared memory.
    enum class Backend { Default, Anon, Memfd, File };
    Backend backend = Backend::Default;
    std::string path;  // Backend::File: a file or a directory (memory_file.h)
    HugePages huge_pages = HugePages::None;
    bool mergeable = false;
    bool prefault = false;
    // KVM's dirty log on and the VMM's writes marked: what diff snapshots and migration need
    // (Firecracker's track_dirty_pages).
    bool track_dirty = false;

    // Whether the guest's RAM is a file other processes can map (memfd or file).
    bool shared(bool vhost_user) const {
        return backend == Backend::Memfd || backend == Backend::File || (backend == Backend::Default && vhost_user);
    }
};

// "256M", "1G", "512K", "2T" (binary units, optional "iB"/"B"), or a bare number of MiB.
Result<uint64_t> parse_memory_size(std::string_view text);

// A size alone ("256M"), or "[size=SIZE][,backend=anon|memfd|file:PATH][,hugepages=none|2M|transparent]
// [,mergeable=on|off][,prefault=on|off][,track_dirty_pages=on|off]"; a size not given stays `size`.
Result<MemoryConfig> parse_memory(std::string_view text, uint64_t& size);

// The combinations the host can give: huge pages need a 2 MiB multiple, KSM merges private
// small pages only, vhost-user (virtio-fs) needs shared memory.
Status validate_memory(const MemoryConfig& memory, uint64_t size, bool vhost_user);

}  // namespace vmm
