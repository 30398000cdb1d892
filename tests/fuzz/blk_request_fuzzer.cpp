// Fuzzes virtio-blk request handling end to end: guest memory (rings, headers, data) from
// the input, a 64-sector in-memory disk (memfd), the queue served by the block device.
#include <cstddef>
#include <cstdint>

#include "devices/virtio/block.h"
#include "fuzz_memory.h"

using namespace vmm;

namespace {

std::string disk_path() {
    static const std::string path = fuzz::memfd_disk(64 * 512);
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2)
        return 0;
    auto memory = fuzz::memory_from({data + 2, size - 2});
    const bool readonly = data[0] & 1;
    auto disk = virtio::DiskFile::open(disk_path(), readonly);
    if (!disk.ok())
        __builtin_trap();
    auto block_owner = virtio::Block::create(std::move(disk).value(), memory, {"fuzz", false});
    if (!block_owner.ok())
        __builtin_trap();
    virtio::Block& block = **block_owner;
    block.activate(data[1] & 1 ? (virtio::blk::F_DISCARD | virtio::blk::F_WRITE_ZEROES) : 0);
    const uint16_t queue_size = static_cast<uint16_t>(1u << (data[0] >> 1) % 9);
    auto queue = virtio::Virtqueue::create(memory, {queue_size, fuzz::DESC, fuzz::AVAIL, fuzz::USED},
                                           data[1] & 2, data[1] & 4);
    if (queue.ok())
        (void)block.process_queue(0, *queue);
    return 0;
}
