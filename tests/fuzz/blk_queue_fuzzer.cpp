// Fuzzes virtio-blk through a structure-aware driver: queues of 1..256 entries, batches of
// chains with up to 256 descriptors (indirect tables as large as Linux's seg_max + 2), some
// fields corrupted, and device resets between batches. Invariants: nothing crashes or reads
// outside guest memory (ASan); one call returns at most min(queue size, its request budget)
// chains, whatever the driver wrote into its rings.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "devices/virtio/block.h"
#include "fuzz_driver.h"

using namespace vmm;

namespace {

std::string disk_path() {
    static const std::string path = fuzz::memfd_disk(1 << 20);
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    auto memory = fuzz::driver_memory();
    auto disk = virtio::DiskFile::open(disk_path(), in.ConsumeBool());
    if (!disk.ok())
        __builtin_trap();
    auto block = virtio::Block::create(std::move(disk).value(), memory, {"fuzz", in.ConsumeBool()});
    if (!block.ok())
        __builtin_trap();
    fuzz::FuzzDriver driver(in, memory);
    (*block)->activate(in.ConsumeIntegral<uint64_t>());
    auto queue = virtio::Virtqueue::create(memory, driver.layout(), in.ConsumeBool(), true);
    if (!queue.ok())
        __builtin_trap();
    const size_t per_call = std::min<size_t>(driver.size(), virtio::Block::BATCH * virtio::Block::BATCHES_PER_CALL);
    uint16_t used = 0;
    for (int round = 0; round < 8 && in.remaining_bytes() > 0; ++round) {
        driver.post(in.ConsumeIntegralInRange<uint16_t>(1, driver.size()));
        auto more = (*block)->process_queue(0, *queue);
        if (!more.ok())
            break;  // the transport would set DEVICE_NEEDS_RESET
        const uint16_t now = memory.load<uint16_t>(fuzz::RING_USED + 2).value();
        if (static_cast<uint16_t>(now - used) > per_call)
            __builtin_trap();
        used = now;
        if (in.ConsumeIntegralInRange(0, 7) == 0)
            (*block)->reset();  // a reset mid-batch: requests in flight are dropped
    }
    return 0;
}
