// Fuzzes qcow2 parsing and the image's read/write paths: the input's first part is the image
// file (header, extensions, L1/L2 tables, refcount table and blocks, data, compressed
// clusters), its last OPS_BYTES a script of guest requests run on it when it opens. Seeds
// (tests/fuzz/seeds/qcow2_image_fuzzer) are images qemu-img made with 512-byte clusters, so
// mutations start from real tables. Any error is fine; a crash, a sanitizer report, or a
// file grown past what the requests can allocate is not.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "devices/virtio/qcow2_image.h"

using namespace vmm;

namespace {

constexpr size_t OPS_BYTES = 48;  // 12 requests of 4 bytes

int image_fd() {
    static const int fd = ::memfd_create("ember-fuzz-qcow2", 0);
    if (fd < 0)
        __builtin_trap();
    return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < OPS_BYTES + 72)
        return 0;
    const size_t image_size = size - OPS_BYTES;
    const int fd = image_fd();
    if (::ftruncate(fd, 0) < 0 || ::pwrite(fd, data, image_size, 0) != static_cast<ssize_t>(image_size))
        __builtin_trap();
    auto file = virtio::DiskFile::open("/proc/self/fd/" + std::to_string(fd), false, true);
    if (!file.ok())
        __builtin_trap();
    auto opened = virtio::qcow2::Image::open(file.value());
    if (!opened.ok())
        return 0;
    virtio::qcow2::Image& image = *opened.value();
    const uint64_t sectors = image.size() / 512;
    std::vector<uint8_t> buffer(8 * 512, 0x5a);
    const uint8_t* ops = data + image_size;
    for (size_t i = 0; i + 4 <= OPS_BYTES && sectors > 0; i += 4) {
        const uint64_t count = 1 + ops[i + 3] % 8;
        const uint64_t sector = ((uint64_t(ops[i + 1]) << 8 | ops[i + 2]) * 2654435761u) % sectors;
        const uint64_t n = std::min(count, sectors - sector);
        const iovec one{buffer.data(), n * 512};
        switch (ops[i] % 5) {
        case 0: (void)image.readv({&one, 1}, sector * 512); break;
        case 1: (void)image.writev({&one, 1}, sector * 512); break;
        case 2: (void)image.discard(sector * 512, n * 512); break;
        case 3: (void)image.write_zeroes(sector * 512, n * 512); break;
        case 4: (void)image.flush(); break;
        }
    }
    // Each request allocates at most a few clusters (data, L2 table, refcount blocks, a grown
    // table): the file stays within reach of what was asked.
    const uint64_t cluster = image.header().cluster_size();
    const off_t end = ::lseek(fd, 0, SEEK_END);
    if (end > 0 && uint64_t(end) > image_size + cluster * (12 * 16 + 4) + (8ull << 20))
        __builtin_trap();
    return 0;
}
