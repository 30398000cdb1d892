// Fuzzes the virtio-mmio register interface: the input is a sequence of register accesses
// (offset, size, value) against a transport with a virtio-blk device, with guest memory
// taken from the input's tail, so queue addresses and rings are attacker-chosen too. The
// first access's pad byte, when odd, picks a device with external rings instead (virtio-fs's
// shape: what a vhost-user backend is handed); each access's pad bits 1 and 2 then report
// used buffers and a backend failure first. The oracle: every ring handed to the backend
// lies inside guest memory with a valid size, and kicks name existing queues.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include <set>

#include "devices/virtio/mmio_transport.h"
#include "fuzz_block.h"

using namespace vmm;

namespace {

struct CountingInterrupt : Interrupt {
    void trigger() override { ++count; }
    uint64_t count = 0;
};

// Two queues served elsewhere; traps on what the core must never hand a backend.
class ExternalDevice final : public virtio::VirtioDevice, private virtio::ExternalRings {
public:
    explicit ExternalDevice(const GuestMemory& memory) : m_memory(memory) {}
    uint32_t device_id() const override { return virtio::device_id::FS; }
    uint64_t device_features() const override { return 0; }
    ExternalRings* external_rings() override { return this; }
    size_t queue_count() const override { return 2; }
    size_t config_size() const override { return 40; }
    void read_config(uint64_t, std::span<uint8_t>) const override {}
    void activate(uint64_t) override {}
    Result<bool> process_queue(size_t, virtio::Virtqueue&) override { __builtin_trap(); }
    void reset() override {}

private:
    Status start(uint64_t, std::span<const Queue> ready) override {
        std::set<uint32_t> seen;
        for (const Queue& q : ready) {
            const uint64_t n = q.layout.size;
            if (q.index >= 2 || !seen.insert(q.index).second || n == 0 || (n & (n - 1)) || n > 32768 ||
                !m_memory.slice(q.layout.desc_table, 16 * n).ok() || !m_memory.slice(q.layout.avail_ring, 6 + 2 * n).ok() ||
                !m_memory.slice(q.layout.used_ring, 6 + 8 * n).ok())
                __builtin_trap();
        }
        // A backend that refuses some layouts: the core must cope (DEVICE_NEEDS_RESET).
        if (!ready.empty() && ready[0].layout.size == 1)
            return Error(ErrorKind::InvalidInput, "refused");
        return {};
    }
    void kick(uint32_t index) override {
        if (index >= 2)
            __builtin_trap();
    }
    const GuestMemory& m_memory;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    constexpr size_t OP = 8;  // u16 offset, u8 size/kind, u8 pad, u32 value
    const size_t ops = std::min<size_t>(size / OP, 64);
    auto memory = fuzz::memory_from({data + ops * OP, size - ops * OP});
    CountingInterrupt interrupt;
    const bool external = ops > 0 && (data[3] & 1);
    std::unique_ptr<virtio::VirtioDevice> device;
    if (external) {
        device = std::make_unique<ExternalDevice>(memory);
    } else {
        device = fuzz::small_block(memory);
    }
    virtio::MmioTransport transport(std::move(device), memory, interrupt);
    for (size_t i = 0; i < ops; ++i) {
        const uint8_t* op = data + i * OP;
        if (external && (op[3] & 2))
            transport.external_used(op[3] >> 4);
        if (external && (op[3] & 4))
            transport.external_failed("backend gone");
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
