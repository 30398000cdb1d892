// Fuzzes virtio-vsock packet handling: transmit packets whose headers are mostly well formed
// (the guest's CID, the host's, stream type, real ops, ports from a few, lengths near the
// payload) with fields corrupted now and then, so that connections really open (a host
// listener waits at the socket path's "_5000"), carry bytes, shut down and reset; between
// them the receive queue is served into posted buffers. Every input starts from a reset device.
#include <fuzzer/FuzzedDataProvider.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "devices/virtio/vsock.h"

using namespace vmm;
using namespace vmm::virtio;

namespace {

constexpr uint64_t CID = 3;
constexpr uint64_t MEMORY = 1 << 20, RX_RING = 0x0000, TX_RING = 0x4000, DATA = 0x10000;
constexpr uint16_t SIZE = 64;

struct Rig {
    GuestMemory memory = [] {
        const MemoryRegionSpec spec[] = {{0, MEMORY}};
        return std::move(GuestMemory::create(spec).value());
    }();
    std::string path = "/tmp/ember-vsock-fuzz-" + std::to_string(::getpid()) + ".sock";
    std::unique_ptr<UnixListener> host_listener;
    std::unique_ptr<Vsock> device;

    Rig() {
        host_listener = std::make_unique<UnixListener>(UnixListener::bind(path + "_5000", "fuzz").value());
        device = std::make_unique<Vsock>(memory, CID, vsock::Muxer::create(CID, UnixListener::bind(path, "fuzz").value()).value());
    }
};

Rig& rig() {
    static Rig r;
    return r;
}

struct Queue {
    uint64_t base;
    uint16_t avail = 0;
    QueueLayout layout() const { return {SIZE, base, base + 0x1000, base + 0x2000}; }
    void post(GuestMemory& memory, uint16_t slot, uint64_t addr, uint32_t len, bool writable) {
        const VirtqDesc desc{addr, len, static_cast<uint16_t>(writable ? VIRTQ_DESC_F_WRITE : 0), 0};
        (void)memory.store(base + 16ull * slot, desc);
        (void)memory.store<uint16_t>(base + 0x1000 + 4 + 2ull * (avail % SIZE), slot);
        (void)memory.store<uint16_t>(base + 0x1000 + 2, ++avail);
    }
};

vsock::Header header(FuzzedDataProvider& in, uint32_t payload) {
    vsock::Header h{};
    h.src_cid = in.ConsumeIntegralInRange(0, 15) ? CID : in.ConsumeIntegral<uint64_t>();
    h.dst_cid = in.ConsumeIntegralInRange(0, 15) ? vsock::HOST_CID : in.ConsumeIntegral<uint64_t>();
    const uint32_t ports[] = {5000, 5001, vsock::Muxer::FIRST_HOST_PORT, 1234};
    h.src_port = in.ConsumeIntegralInRange(0, 15) ? 1000 + in.ConsumeIntegralInRange(0, 3) : in.ConsumeIntegral<uint32_t>();
    h.dst_port = in.ConsumeIntegralInRange(0, 15) ? ports[in.ConsumeIntegralInRange(0, 3)] : in.ConsumeIntegral<uint32_t>();
    h.op = in.ConsumeIntegralInRange(0, 15) ? in.ConsumeIntegralInRange<uint16_t>(1, 7) : in.ConsumeIntegral<uint16_t>();
    h.type = in.ConsumeIntegralInRange(0, 15) ? vsock::TYPE_STREAM : in.ConsumeIntegral<uint16_t>();
    h.len = h.op == vsock::op::RW && in.ConsumeIntegralInRange(0, 7) ? payload : in.ConsumeIntegral<uint32_t>();
    h.flags = in.ConsumeIntegralInRange<uint32_t>(0, 3);
    h.buf_alloc = in.ConsumeBool() ? 256 * 1024 : in.ConsumeIntegral<uint32_t>();
    h.fwd_cnt = in.ConsumeIntegral<uint32_t>();
    return h;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    FuzzedDataProvider in(data, size);
    Rig& r = rig();
    Queue rx{RX_RING}, tx{TX_RING};
    (void)r.memory.store<uint16_t>(RX_RING + 0x1000 + 2, 0);
    (void)r.memory.store<uint16_t>(TX_RING + 0x1000 + 2, 0);
    auto rxq = Virtqueue::create(r.memory, rx.layout(), false, false);
    auto txq = Virtqueue::create(r.memory, tx.layout(), false, false);
    if (!rxq.ok() || !txq.ok())
        return 0;
    uint16_t tx_slot = 0, rx_slot = 0;
    uint64_t next = DATA;
    for (int step = 0; step < 64 && in.remaining_bytes() > 0; ++step) {
        if (in.ConsumeBool()) {
            const uint32_t payload = in.ConsumeIntegralInRange<uint32_t>(0, 2048);
            const vsock::Header h = header(in, payload);
            const uint32_t len = vsock::HEADER_SIZE + payload;
            if (next + len > MEMORY)
                break;
            (void)r.memory.write(next, std::span(reinterpret_cast<const uint8_t*>(&h), sizeof h));
            tx.post(r.memory, static_cast<uint16_t>(tx_slot++ % SIZE), next, in.ConsumeBool() ? len : in.ConsumeIntegral<uint32_t>() % 8192, false);
            next += len;
            if (!r.device->process_queue(Vsock::TXQ, *txq).ok())
                break;
        } else {
            const uint32_t len = in.ConsumeIntegralInRange<uint32_t>(0, 4096);
            if (next + len > MEMORY)
                break;
            rx.post(r.memory, static_cast<uint16_t>(rx_slot++ % SIZE), next, len, true);
            next += len;
            (void)r.device->host_events();
            if (!r.device->process_queue(Vsock::RXQ, *rxq).ok())
                break;
        }
    }
    r.device->reset();
    // The host listener's accepted connections: drained so none accumulate between inputs.
    for (int fd; (fd = ::accept4(r.host_listener->fd(), nullptr, nullptr, SOCK_NONBLOCK)) >= 0;)
        ::close(fd);
    return 0;
}
