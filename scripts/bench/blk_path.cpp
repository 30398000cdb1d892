// blk_path FILE [SECONDS]: virtio-blk device-path throughput. A fake driver makes 8 requests
// available per notification through the split virtqueue and the virtio-blk device against
// FILE (4 KiB random reads and writes, 128 KiB sequential reads and writes), with each engine;
// the same offsets run as plain preadv/pwritev, one call per request, on the same file in the
// same run. Then qcow2 (64 KiB clusters, sync) against the raw disk through the same device
// path, on the same file system, in the same run (the "raw" columns are then the raw disk's
// device path): "qcow2" with every cluster allocated (the steady state), "qcow2 new" for writes
// to a fresh image (each first write to a cluster allocates it) against a fresh sparse raw
// file. Prints IOPS, MB/s and the ratio.
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "devices/virtio/block.h"
#include "devices/virtio/qcow2_image.h"
#include "tests/support/virtio_driver_fake.h"

using namespace vmm;
using Clock = std::chrono::steady_clock;

namespace {

constexpr uint64_t DISK_BYTES = 64ull << 20;

struct Pattern {
    const char* name;
    uint32_t type;
    uint32_t bytes;
    bool random;
};

uint64_t offset_for(const Pattern& p, uint64_t i, std::mt19937_64& rng) {
    const uint64_t slots = DISK_BYTES / p.bytes;
    return (p.random ? rng() % slots : i % slots) * p.bytes;
}

constexpr int DEPTH = 8;  // requests the fake driver makes available per notification

// Requests per second through the virtqueue + device.
double device_path(const std::string& path, const Pattern& p, double seconds, virtio::DiskEngineKind engine,
                   virtio::DiskFormat format = virtio::DiskFormat::Raw) {
    test::FakeDriverQueue driver(64, 4ull << 20);
    const bool qcow2 = format == virtio::DiskFormat::Qcow2;
    auto block_owner = virtio::Block::create(virtio::DiskFile::open(path, false, qcow2).value(), driver.memory(),
                                             {"bench", false, engine, format});
    if (!block_owner.ok()) {
        std::fprintf(stderr, "blk_path: %s\n", block_owner.error().message().c_str());
        std::exit(1);
    }
    virtio::Block& block = **block_owner;
    block.activate(0);
    auto queue = virtio::Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    uint64_t header[DEPTH], data[DEPTH], status[DEPTH];
    for (int i = 0; i < DEPTH; ++i)
        header[i] = driver.alloc(16), data[i] = driver.alloc(p.bytes), status[i] = driver.alloc(1);
    std::mt19937_64 rng(1);
    uint64_t n = 0;
    const bool device_writes = p.type == virtio::blk::T_IN;
    // Descriptors are written once; each request then only gets its header (a new sector) and
    // its head re-posted, as a guest recycling its request slots would.
    for (int i = 0; i < DEPTH; ++i) {
        const uint16_t first = static_cast<uint16_t>(3 * i);
        driver.write_desc(first, {header[i], 16, virtio::VIRTQ_DESC_F_NEXT, static_cast<uint16_t>(first + 1)});
        driver.write_desc(first + 1, {data[i], p.bytes,
                                      static_cast<uint16_t>(virtio::VIRTQ_DESC_F_NEXT |
                                                            (device_writes ? virtio::VIRTQ_DESC_F_WRITE : 0)),
                                      static_cast<uint16_t>(first + 2)});
        driver.write_desc(first + 2, {status[i], 1, virtio::VIRTQ_DESC_F_WRITE, 0});
    }
    const auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        for (int round = 0; round < 8; ++round) {
            for (int i = 0; i < DEPTH; ++i, ++n) {
                (void)driver.memory().store(header[i],
                                            virtio::BlockRequestHeader{p.type, 0, offset_for(p, n, rng) / 512});
                driver.make_available(static_cast<uint16_t>(3 * i));
            }
            if (!block.process_queue(0, queue).ok()) {
                std::fprintf(stderr, "blk_path: device error\n");
                std::exit(1);
            }
            for (int i = 0; i < DEPTH; ++i) {
                if (driver.memory().load<uint8_t>(status[i]).value() != 0) {
                    std::fprintf(stderr, "blk_path: request failed\n");
                    std::exit(1);
                }
            }
        }
    }
    return n / std::chrono::duration<double>(Clock::now() - start).count();
}

// Requests per second as plain preadv/pwritev of the same sizes and offsets.
double raw_path(const std::string& path, const Pattern& p, double seconds) {
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    // As many buffers as the device side has requests in flight, used in turn: both sides
    // touch the same amount of memory.
    std::vector<std::vector<uint8_t>> buffers(DEPTH, std::vector<uint8_t>(p.bytes, 0x5a));
    std::mt19937_64 rng(1);
    uint64_t n = 0;
    const auto start = Clock::now();
    while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
        for (int batch = 0; batch < 64; ++batch, ++n) {
            const off_t at = static_cast<off_t>(offset_for(p, n, rng));  // same offsets as the device run
            const iovec iov{buffers[n % DEPTH].data(), p.bytes};
            const ssize_t done = p.type == virtio::blk::T_IN ? ::preadv(fd, &iov, 1, at) : ::pwritev(fd, &iov, 1, at);
            if (done != static_cast<ssize_t>(p.bytes)) {
                std::fprintf(stderr, "blk_path: raw I/O failed\n");
                std::exit(1);
            }
        }
    }
    ::close(fd);
    return n / std::chrono::duration<double>(Clock::now() - start).count();
}

// A fresh 64 MiB qcow2 image at `path` (qemu-img), every cluster written when `allocated`.
void make_qcow2(const std::string& path, bool allocated) {
    ::unlink(path.c_str());
    const std::string command = "qemu-img create -q -f qcow2 '" + path + "' " + std::to_string(DISK_BYTES);
    if (std::system(command.c_str()) != 0) {
        std::fprintf(stderr, "blk_path: qemu-img create failed (qemu-utils)\n");
        std::exit(1);
    }
    if (!allocated)
        return;
    auto file = virtio::DiskFile::open(path, false, true).value();
    auto image = virtio::qcow2::Image::open(file).value();
    std::vector<uint8_t> chunk(1 << 20, 0x5a);
    const iovec one{chunk.data(), chunk.size()};
    for (uint64_t at = 0; at < DISK_BYTES; at += chunk.size())
        (void)image->writev({&one, 1}, at);
    (void)image->flush();
}

void fresh_raw(const std::string& path) {
    if (::truncate(path.c_str(), 0) < 0 || ::truncate(path.c_str(), DISK_BYTES) < 0)
        std::perror(path.c_str());
}

// Alternates the two sides twice (`prepare` before each) and keeps each side's better run.
template <typename Dev, typename Raw, typename Prepare>
std::pair<double, double> best_of_two(Dev dev_run, Raw raw_run, Prepare prepare) {
    double dev = 0, raw = 0;
    for (int round = 0; round < 2; ++round) {
        prepare();
        dev = std::max(dev, dev_run());
        raw = std::max(raw, raw_run());
    }
    return {dev, raw};
}

void print_row(const Pattern& p, const char* kind, double dev, double raw) {
    std::printf("%-24s %-9s %12.0f %10.1f %12.0f %10.1f %7.3f\n", p.name, kind, dev, dev * p.bytes / 1e6, raw,
                raw * p.bytes / 1e6, dev / raw);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: blk_path FILE [SECONDS]\n");
        return 2;
    }
    const std::string path = argv[1];
    const double seconds = argc > 2 ? std::stod(argv[2]) : 1.0;
    {
        int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || ::ftruncate(fd, DISK_BYTES) < 0) {
            std::perror(path.c_str());
            return 1;
        }
        ::close(fd);
    }
    const Pattern patterns[] = {{"4K random read", virtio::blk::T_IN, 4096, true},
                                {"4K random write", virtio::blk::T_OUT, 4096, true},
                                {"128K sequential read", virtio::blk::T_IN, 128 << 10, false},
                                {"128K sequential write", virtio::blk::T_OUT, 128 << 10, false}};
    std::printf("%-24s %-9s %12s %10s %12s %10s %7s\n", "pattern", "engine", "device IOPS", "MB/s",
                "raw IOPS", "MB/s", "ratio");
    for (const auto& p : patterns) {
        for (auto engine : {virtio::DiskEngineKind::Sync, virtio::DiskEngineKind::IoUring}) {
            const auto [dev, raw] = best_of_two([&] { return device_path(path, p, seconds / 2, engine); },
                                                [&] { return raw_path(path, p, seconds / 2); }, [] {});
            print_row(p, engine == virtio::DiskEngineKind::Sync ? "sync" : "io_uring", dev, raw);
        }
    }
    const std::string image = path + ".qcow2";
    const auto qcow2_run = [&](const Pattern& p) {
        return device_path(image, p, seconds / 2, virtio::DiskEngineKind::Sync, virtio::DiskFormat::Qcow2);
    };
    const auto raw_disk_run = [&](const Pattern& p) {
        return device_path(path, p, seconds / 2, virtio::DiskEngineKind::Sync);
    };
    make_qcow2(image, true);
    for (const auto& p : patterns) {
        const auto [dev, raw] = best_of_two([&] { return qcow2_run(p); }, [&] { return raw_disk_run(p); }, [] {});
        print_row(p, "qcow2", dev, raw);
    }
    for (const auto& p : patterns) {
        if (p.type != virtio::blk::T_OUT)
            continue;
        // Fresh files each round: the image's first writes allocate, the raw file's fill holes.
        const auto [dev, raw] = best_of_two([&] { return qcow2_run(p); }, [&] { return raw_disk_run(p); }, [&] {
            make_qcow2(image, false);
            fresh_raw(path);
        });
        print_row(p, "qcow2 new", dev, raw);
    }
    ::unlink(image.c_str());
    ::unlink(path.c_str());
    return 0;
}
