// Fuzzes the virtio-mmio register interface: the input is a sequence of register accesses
// (offset, size, value) against a transport with a virtio-blk device, with guest memory
// taken from the input's tail, so queue addresses and rings are attacker-chosen too.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "devices/virtio/block.h"
#include "devices/virtio/mmio_transport.h"
#include "fuzz_memory.h"

using namespace vmm;

namespace {

struct CountingInterrupt : Interrupt {
    void trigger() override { ++count; }
    uint64_t count = 0;
};

std::string disk_path() {
    static const std::string path = fuzz::memfd_disk(16 * 512);
    return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t OP = 8;  // u16 offset, u8 size/kind, u8 pad, u32 value
    const size_t ops = std::min<size_t>(size / OP, 64);
    auto memory = fuzz::memory_from({data + ops * OP, size - ops * OP});
    CountingInterrupt interrupt;
    auto disk = virtio::DiskFile::open(disk_path(), false);
    if (!disk.ok())
        __builtin_trap();
    auto block = virtio::Block::create(std::move(disk).value(), memory, virtio::BlockOptions{"f", false});
    if (!block.ok())
        __builtin_trap();
    virtio::MmioTransport transport(std::move(block).value(), memory, interrupt);
    for (size_t i = 0; i < ops; ++i) {
        const uint8_t* op = data + i * OP;
        uint16_t offset;
        uint32_t value;
        std::memcpy(&offset, op, 2);
        std::memcpy(&value, op + 4, 4);
        const size_t width = size_t(1) << (op[2] & 3);  // 1, 2, 4, 8
        uint8_t buf[8] = {};
        std::memcpy(buf, &value, 4);
        const uint64_t at = offset % virtio::MmioTransport::SIZE;
        if (at + width > virtio::MmioTransport::SIZE)
            continue;
        if (op[2] & 4)
            transport.read(at, std::span(buf, width));
        else
            transport.write(at, std::span(buf, width));
    }
    return 0;
}
