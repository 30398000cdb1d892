// No heap allocation on the hot paths: a port or MMIO access dispatched through the bus to a
// device, an ioeventfd served by the event loop and the virtio transport, a TAP-style wake.
// Its own executable: it replaces the global operator new with a counting one.
#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <vector>

#include "devices/legacy/byte_register_device.h"
#include "devices/legacy/cmos.h"
#include "devices/legacy/serial_port.h"
#include "devices/virtio/mmio_transport.h"
#include "devices/virtio/net.h"
#include "devices/virtio/rng.h"
#include "devices/virtio/virtio.h"
#include "tests/support/fake_virtio.h"
#include "tests/support/virtio_driver_fake.h"
#include "vmm/bus.h"
#include "vmm/event_loop.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

void* operator new(std::size_t size) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1))
        return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace vmm {
namespace {

uint64_t allocations() { return g_allocations.load(std::memory_order_relaxed); }

struct NullIrq : IrqLine {
    void set_level(bool) override {}
};
struct NullInterrupt : Interrupt {
    void trigger() override {}
};

void kick(int fd) {
    const uint64_t one = 1;
    ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
}

// A callback holding what the real ones hold (a shared transport, a vector of fds) is served
// 1000 times without one allocation: dispatch must not copy it.
TEST(HotPathAllocations, EventLoopDispatchAllocatesNothing) {
    auto loop = EventLoop::create().value();
    const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    ASSERT_GE(fd, 0);
    auto shared = std::make_shared<std::vector<int>>(64, 1);
    std::vector<int> fds(16, fd);
    int served = 0;
    ASSERT_TRUE(loop->add(fd, EPOLLIN, [&, shared, fds](uint32_t) {
        uint64_t count;
        (void)::read(fds.front(), &count, sizeof count);
        if (++served == 1000)
            loop->stop();
        else
            kick(fd);
    }).ok());
    kick(fd);
    const uint64_t before = allocations();
    ASSERT_TRUE(loop->run().ok());
    EXPECT_EQ(allocations() - before, 0u);
    EXPECT_EQ(served, 1000);
    ::close(fd);
}

TEST(HotPathAllocations, PortAccessesAllocateNothing) {
    NullIrq irq;
    std::vector<uint8_t> output;
    output.reserve(4096);
    Bus pio;
    ASSERT_TRUE(pio.insert(0x3f8, 8, std::make_shared<SerialPort>(irq, [&](std::span<const uint8_t> bytes) {
        if (output.size() + bytes.size() <= output.capacity())
            output.insert(output.end(), bytes.begin(), bytes.end());
    })).ok());
    ASSERT_TRUE(pio.insert(0x70, 2, std::make_shared<ByteRegisterDevice<Cmos>>("cmos", [] { return std::time_t{0}; },
                                                                              64u << 20, 0)).ok());
    const uint8_t byte = 'x';
    uint8_t in = 0;
    const uint64_t before = allocations();
    for (int i = 0; i < 1000; ++i) {
        pio.write(0x3f8, std::span(&byte, 1));     // THR
        pio.read(0x3fd, std::span(&in, 1));        // LSR
        pio.write(0x70, std::span(&byte, 1));      // CMOS index
        pio.read(0x71, std::span(&in, 1));         // CMOS data
        pio.read(0x1000, std::span(&in, 1));       // no device
    }
    EXPECT_EQ(allocations() - before, 0u);
    EXPECT_EQ(output.size(), 1000u);
}

// A virtio device behind the MMIO transport, driven by the fake driver on queue 0.
struct VirtioHotPath : ::testing::Test {
    test::FakeDriverQueue driver{16};
    NullInterrupt interrupt;
    std::unique_ptr<virtio::MmioTransport> device;

    void bring_up(std::unique_ptr<virtio::VirtioDevice> model) {
        device = std::make_unique<virtio::MmioTransport>(std::move(model), driver.memory(), interrupt);
        test::MmioDriver(*device).bring_up(driver.layout());
        ASSERT_EQ(rd(0x70), 0x0fu);
    }
    void bring_up_rng() {
        bring_up(std::make_unique<virtio::Rng>(driver.memory(), [](std::span<uint8_t> out) {
            std::fill(out.begin(), out.end(), uint8_t{0x5a});
            return true;
        }));
    }
    void wr(uint64_t offset, uint32_t v) { test::MmioDriver{*device}.wr(offset, v); }
    uint32_t rd(uint64_t offset) { return test::MmioDriver{*device}.rd(offset); }
    void post(int chains, uint32_t len) {
        for (int i = 0; i < chains; ++i)
            driver.add_chain({{driver.alloc(len), len, true}}, static_cast<uint16_t>((i % 8) * 2));
    }
    // Device-side allocations while serving `rounds` notifications of `chains` new chains each.
    uint64_t serve(int rounds, int chains, uint32_t len) {
        uint64_t during = 0;
        for (int round = 0; round < rounds; ++round) {
            post(chains, len);  // the fake driver's own bookkeeping allocates; only the device counts
            const uint64_t before = allocations();
            (void)device->notify(0);
            during += allocations() - before;
            driver.reset_alloc();
        }
        return during;
    }
};

// Frames from a fixed buffer: a TAP with traffic, without the TAP.
struct FrameSource final : virtio::NetBackend {
    int frames = 0;
    Result<size_t> receive(std::span<uint8_t> frame) override {
        if (frames == 0)
            return size_t{0};
        --frames;
        const size_t n = std::min<size_t>(frame.size(), 12 + 60);
        std::fill(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(n), uint8_t{0});
        return n;
    }
    Status send(std::span<const iovec>) override { return {}; }
    Status set_offload(uint32_t) override { return {}; }
    Status set_enabled(bool) override { return {}; }
    int fd() const override { return -1; }
};

TEST_F(VirtioHotPath, QueueNotificationAllocatesNothing) {
    bring_up_rng();
    (void)serve(1, 1, 64);  // the device's chain storage reaches its size once
    const uint16_t used_before = driver.used_idx();
    EXPECT_EQ(serve(100, 4, 64), 0u);
    EXPECT_EQ(static_cast<uint16_t>(driver.used_idx() - used_before), 400);
}

// What a TAP wake runs (the event loop's dispatch is the test above): the receive queue pulls
// waiting frames into posted buffers.
TEST_F(VirtioHotPath, ReceiveWakeAllocatesNothing) {
    auto source = std::make_unique<FrameSource>();
    FrameSource* frames = source.get();
    std::vector<std::unique_ptr<virtio::NetBackend>> backends;
    backends.push_back(std::move(source));
    bring_up(std::make_unique<virtio::Net>(driver.memory(), std::move(backends),
                                           virtio::Net::Mac{2, 0, 0, 0, 0, 1}));
    frames->frames = 1;
    (void)serve(1, 1, 2048);
    const uint16_t used_before = driver.used_idx();
    frames->frames = 400;
    EXPECT_EQ(serve(100, 4, 2048), 0u);
    EXPECT_EQ(static_cast<uint16_t>(driver.used_idx() - used_before), 400);
}

TEST_F(VirtioHotPath, MmioRegisterAccessesAllocateNothing) {
    bring_up_rng();
    const uint64_t before = allocations();
    uint32_t sum = 0;
    for (int i = 0; i < 1000; ++i) {
        sum += rd(0x000) + rd(0x070) + rd(0x060);
        wr(0x064, 0);   // InterruptACK
        wr(0x0fc, 1);   // unknown register: ignored, rate-limited warning
    }
    EXPECT_EQ(allocations() - before, 0u);
    EXPECT_NE(sum, 0u);
}

}  // namespace
}  // namespace vmm
