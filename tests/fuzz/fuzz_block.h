// A virtio-blk device on a small in-memory disk (made once per process) for the transport
// fuzzers, which drive it through their registers.
#pragma once

#include <memory>

#include "devices/virtio/block.h"
#include "fuzz_memory.h"

namespace vmm::fuzz {

inline std::unique_ptr<virtio::Block> small_block(GuestMemory& memory) {
    static const std::string path = memfd_disk(16 * 512);
    auto disk = virtio::DiskFile::open(path, false);
    if (!disk.ok())
        __builtin_trap();
    auto block = virtio::Block::create(std::move(disk).value(), memory, virtio::BlockOptions{"f", false});
    if (!block.ok())
        __builtin_trap();
    return std::move(block).value();
}

}  // namespace vmm::fuzz
