// net_path [SECONDS]: virtio-net device-path frame rate over a real TAP (run as root, inside a
// network namespace: scripts/bench/net.sh). Transmit: a fake driver makes 8 frames available
// per notification and the net device writes them to the TAP, against plain writev() of the
// same header + frame on the same TAP fd. Receive: the host injects frames into the TAP
// through a packet socket and the device copies them into posted buffers, against injecting
// the same frames and read()ing them from the TAP fd. 64-byte and 1500-byte frames.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "devices/virtio/net.h"
#include "devices/virtio/tap.h"
#include "tests/support/virtio_driver_fake.h"

using namespace vmm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* TAP = "embbench0";
constexpr int DEPTH = 8;
constexpr uint32_t HDR = sizeof(virtio::net::Header);

[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "net_path: %s\n", what);
    std::exit(1);
}

// An Ethernet frame of `bytes` to a unicast MAC nobody has (the host drops it at once).
std::vector<uint8_t> make_frame(uint32_t bytes) {
    std::vector<uint8_t> frame(bytes, 0x5a);
    const uint8_t dst[6] = {0x02, 0, 0, 0, 0, 0x99}, src[6] = {0x02, 0, 0, 0, 0, 0x01};
    std::memcpy(frame.data(), dst, 6);
    std::memcpy(frame.data() + 6, src, 6);
    frame[12] = 0x88;  // a local experimental ethertype: no protocol handler takes it
    frame[13] = 0xb5;
    return frame;
}

double elapsed(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

struct Bench {
    test::FakeDriverQueue driver{64, 1ull << 20};
    int tap_fd = -1;
    int packet_fd = -1;
    std::unique_ptr<virtio::Net> net;
    virtio::Virtqueue queue = virtio::Virtqueue::create(driver.memory(), driver.layout(), false, false).value();

    Bench() {
        auto taps = virtio::Tap::open(TAP, 1, nullptr);
        if (!taps.ok())
            die(taps.error().message().c_str());
        tap_fd = (*taps)[0]->fd();
        net = std::make_unique<virtio::Net>(driver.memory(), std::move(*taps), virtio::Net::Mac{0x02, 0, 0, 0, 0, 1});
        net->activate(0);
        packet_fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        sockaddr_ll address{};
        address.sll_family = AF_PACKET;
        address.sll_ifindex = static_cast<int>(::if_nametoindex(TAP));
        if (packet_fd < 0 || address.sll_ifindex == 0 ||
            ::bind(packet_fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0)
            die("packet socket on the TAP (is the TAP up?)");
    }

    double tx_device(const std::vector<uint8_t>& frame, double seconds) {
        driver.reset_alloc();
        const uint64_t header = driver.alloc(HDR), data = driver.alloc(static_cast<uint32_t>(frame.size()));
        (void)driver.memory().write(data, frame);
        // The driver writes its descriptors once and then only re-posts the heads, as a guest
        // recycling its buffers would: the loop measures the device, not the fake driver.
        for (int i = 0; i < DEPTH; ++i)
            driver.add_chain({{header, HDR, false}, {data, static_cast<uint32_t>(frame.size()), false}},
                             static_cast<uint16_t>(2 * i));
        const uint64_t before = net->stats().tx_frames;
        const auto start = Clock::now();
        for (bool first = true; elapsed(start) < seconds; first = false) {
            for (int i = 0; i < DEPTH && !first; ++i)
                driver.make_available(static_cast<uint16_t>(2 * i));
            if (!net->process_queue(1, queue).ok())
                die("device error on transmit");
        }
        if (net->stats().tx_dropped || net->stats().tx_errors)
            die("transmit frames were dropped");
        return static_cast<double>(net->stats().tx_frames - before) / elapsed(start);
    }

    double tx_raw(const std::vector<uint8_t>& frame, double seconds) {
        uint8_t header[HDR] = {};
        const iovec parts[2] = {{header, HDR}, {const_cast<uint8_t*>(frame.data()), frame.size()}};
        uint64_t n = 0;
        const auto start = Clock::now();
        while (elapsed(start) < seconds)
            for (int i = 0; i < DEPTH; ++i, ++n)
                if (::writev(tap_fd, parts, 2) < 0)
                    die("writev to the TAP");
        return static_cast<double>(n) / elapsed(start);
    }

    void inject(const std::vector<uint8_t>& frame) {
        for (int i = 0; i < DEPTH; ++i)
            if (::send(packet_fd, frame.data(), frame.size(), 0) < 0)
                die("send on the packet socket");
    }

    double rx_device(const std::vector<uint8_t>& frame, double seconds) {
        driver.reset_alloc();
        uint64_t buffers[DEPTH];
        for (auto& b : buffers)
            b = driver.alloc(HDR + 1514);
        for (int i = 0; i < DEPTH; ++i)  // descriptors written once; later rounds re-post the heads
            driver.write_desc(static_cast<uint16_t>(i), {buffers[i], HDR + 1514, virtio::VIRTQ_DESC_F_WRITE, 0});
        const uint64_t before = net->stats().rx_frames;
        uint64_t wanted = before;
        const auto start = Clock::now();
        while (elapsed(start) < seconds) {
            inject(frame);
            wanted += DEPTH;
            for (int i = 0; i < DEPTH; ++i)
                driver.make_available(static_cast<uint16_t>(i));
            while (net->stats().rx_frames < wanted)
                if (!net->process_queue(0, queue).ok())
                    die("device error on receive");
        }
        return static_cast<double>(net->stats().rx_frames - before) / elapsed(start);
    }

    double rx_raw(const std::vector<uint8_t>& frame, double seconds) {
        std::vector<uint8_t> buffer(HDR + 1514);
        uint64_t n = 0;
        const auto start = Clock::now();
        while (elapsed(start) < seconds) {
            inject(frame);
            for (int got = 0; got < DEPTH;)
                if (::read(tap_fd, buffer.data(), buffer.size()) > 0)
                    ++got, ++n;
        }
        return static_cast<double>(n) / elapsed(start);
    }
};

}  // namespace

int main(int argc, char** argv) {
    const double seconds = argc > 1 ? std::stod(argv[1]) : 1.0;
    Bench bench;
    std::printf("%-10s %6s %14s %14s %7s\n", "direction", "frame", "device fr/s", "raw TAP fr/s", "ratio");
    for (uint32_t bytes : {64u, 1500u}) {
        const auto frame = make_frame(bytes);
        // Alternate A/B twice and keep each side's better run.
        double dev = 0, raw = 0;
        for (int round = 0; round < 2; ++round) {
            dev = std::max(dev, bench.tx_device(frame, seconds / 2));
            raw = std::max(raw, bench.tx_raw(frame, seconds / 2));
        }
        std::printf("%-10s %6u %14.0f %14.0f %7.3f\n", "transmit", bytes, dev, raw, dev / raw);
        dev = raw = 0;
        for (int round = 0; round < 2; ++round) {
            dev = std::max(dev, bench.rx_device(frame, seconds / 2));
            raw = std::max(raw, bench.rx_raw(frame, seconds / 2));
        }
        std::printf("%-10s %6u %14.0f %14.0f %7.3f\n", "receive", bytes, dev, raw, dev / raw);
    }
    return 0;
}
