// transport_path FILE [SECONDS]: the virtio-blk device path through each transport. A fake driver
// brings a virtio-blk device on FILE up through the virtio-mmio or the virtio-pci (MSI-X)
// registers, then makes 8 4 KiB random reads available per notification; the notification
// reaches the transport as the queue's ioeventfd does (VirtioTransport::notify), the device
// serves the requests, the transport interrupts, and the driver acknowledges the interrupt as
// Linux does: virtio-mmio reads InterruptStatus and writes InterruptACK (two register accesses,
// each a VM exit in a guest), virtio-pci with a vector per queue touches no register. The same
// requests through the device alone (no transport) are the reference, same file, same run,
// the three alternating. Prints requests/s and each transport's ratio to the device alone.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "devices/virtio/block.h"
#include "tests/support/fake_virtio.h"
#include "tests/support/virtio_driver_fake.h"

using namespace vmm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t DISK_BYTES = 64ull << 20;
constexpr uint32_t REQUEST_BYTES = 4096;
constexpr int DEPTH = 8;  // requests the fake driver makes available per notification
constexpr uint64_t BAR = 0xc0000000;

struct CountingInterrupt : Interrupt {
    void trigger() override { ++count; }
    uint64_t count = 0;
};
struct CountingMsi : pci::MsiSink {
    void deliver(uint16_t, const pci::MsiMessage&) override { ++count; }
    uint64_t count = 0;
};
struct NoLine : IrqLine {
    void set_level(bool) override {}
};
struct NoBars : pci::BarListener {
    void bar_moved(unsigned, std::optional<uint64_t>, std::optional<uint64_t>) override {}
};

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "transport_path: %s\n", what);
    std::exit(1);
}

std::unique_ptr<virtio::Block> open_block(const std::string& path, GuestMemory& memory) {
    auto file = virtio::DiskFile::open(path, false, false);
    if (!file.ok())
        fail(file.error().message().c_str());
    auto block = virtio::Block::create(std::move(*file), memory, {"bench", false, virtio::DiskEngineKind::Sync,
                                                                  virtio::DiskFormat::Raw});
    if (!block.ok())
        fail(block.error().message().c_str());
    return std::move(*block);
}

// The requests' descriptors, written once: header, 4 KiB the device writes, status.
struct Requests {
    explicit Requests(test::FakeDriverQueue& d) : driver(d) {
        for (int i = 0; i < DEPTH; ++i) {
            header[i] = driver.alloc(16), data[i] = driver.alloc(REQUEST_BYTES), status[i] = driver.alloc(1);
            const uint16_t first = static_cast<uint16_t>(3 * i);
            driver.write_desc(first, {header[i], 16, virtio::VIRTQ_DESC_F_NEXT, static_cast<uint16_t>(first + 1)});
            driver.write_desc(first + 1, {data[i], REQUEST_BYTES,
                                          virtio::VIRTQ_DESC_F_NEXT | virtio::VIRTQ_DESC_F_WRITE,
                                          static_cast<uint16_t>(first + 2)});
            driver.write_desc(first + 2, {status[i], 1, virtio::VIRTQ_DESC_F_WRITE, 0});
        }
    }
    // A batch of DEPTH reads at random sectors made available.
    void post(std::mt19937_64& rng) {
        for (int i = 0; i < DEPTH; ++i) {
            const uint64_t sector = rng() % (DISK_BYTES / REQUEST_BYTES) * (REQUEST_BYTES / 512);
            (void)driver.memory().store(header[i], virtio::BlockRequestHeader{virtio::blk::T_IN, 0, sector});
            driver.make_available(static_cast<uint16_t>(3 * i));
        }
    }
    void check() {
        for (int i = 0; i < DEPTH; ++i)
            if (driver.memory().load<uint8_t>(status[i]).value() != 0)
                fail("a request failed");
    }
    test::FakeDriverQueue& driver;
    uint64_t header[DEPTH], data[DEPTH], status[DEPTH];
};

enum class Path { Device, Mmio, Pci };

// Requests per second along `path`; `accesses` gets the driver's register accesses per interrupt.
double run(Path path, const std::string& file, double seconds, int& accesses) {
    test::FakeDriverQueue driver(64, 4ull << 20);
    Requests requests(driver);
    std::mt19937_64 rng(1);
    CountingInterrupt line;
    CountingMsi msi;
    NoLine intx;
    NoBars bars;
    std::unique_ptr<virtio::Block> block = open_block(file, driver.memory());
    virtio::Block* device = block.get();
    std::unique_ptr<virtio::MmioTransport> mmio;
    std::unique_ptr<virtio::PciTransport> pci;
    std::optional<virtio::Virtqueue> queue;
    virtio::VirtioTransport* transport = nullptr;
    if (path == Path::Device) {
        device->activate(virtio::feature::VERSION_1);
        queue.emplace(virtio::Virtqueue::create(driver.memory(), driver.layout(), false, false).value());
    } else if (path == Path::Mmio) {
        mmio = std::make_unique<virtio::MmioTransport>(std::move(block), driver.memory(), line);
        test::MmioDriver{*mmio}.bring_up(driver.layout());
        transport = mmio.get();
    } else {
        pci = std::make_unique<virtio::PciTransport>(std::move(block), driver.memory(),
                                                     virtio::PciTransport::Wiring{intx, msi, bars});
        pci->assign_bar(BAR);
        test::PciDriver pci_driver{*pci, BAR};
        pci_driver.enable_msix(pci->vector_count());
        pci_driver.bring_up(driver.layout(), 0);
        transport = pci.get();
    }
    if (transport && transport->status() != 0x0f)
        fail("the transport did not reach DRIVER_OK");
    uint64_t n = 0, interrupts = 0;
    accesses = 0;
    const auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        for (int round = 0; round < 8; ++round, n += DEPTH) {
            requests.post(rng);
            if (path == Path::Device) {
                if (!device->process_queue(0, *queue).ok())
                    fail("device error");
            } else {
                transport->notify(0);
            }
            if (path == Path::Mmio && line.count > interrupts) {
                // Linux's vm_interrupt: read InterruptStatus, write it back to InterruptACK.
                test::MmioDriver driver_regs{*mmio};
                driver_regs.wr(0x64, driver_regs.rd(0x60));
                accesses = 2;
            }
            interrupts = path == Path::Pci ? msi.count : line.count;
            requests.check();
        }
    }
    if (path != Path::Device && interrupts == 0)
        fail("no interrupt reached the driver");
    return n / std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: transport_path FILE [SECONDS]\n");
        return 2;
    }
    const std::string file = argv[1];
    const double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
    if (std::system(("truncate -s " + std::to_string(DISK_BYTES) + " '" + file + "'").c_str()) != 0)
        fail("could not make the disk file");
    std::vector<double> rates[3];
    int accesses[3] = {};
    for (int round = 0; round < 3; ++round)
        for (Path p : {Path::Device, Path::Mmio, Path::Pci})
            rates[int(p)].push_back(run(p, file, seconds / 3, accesses[int(p)]));
    std::remove(file.c_str());
    const double device = median(rates[0]);
    std::printf("virtio-blk 4 KiB random reads, %d per notification, medians of 3 alternating runs\n", DEPTH);
    std::printf("%-26s %10.0f requests/s\n", "device alone", device);
    const char* names[] = {"", "virtio-mmio", "virtio-pci (MSI-X)"};
    for (int p = 1; p < 3; ++p)
        std::printf("%-26s %10.0f requests/s  %.2f of the device alone, %d register accesses per interrupt\n",
                    names[p], median(rates[p]), median(rates[p]) / device, accesses[p]);
    return 0;
}
