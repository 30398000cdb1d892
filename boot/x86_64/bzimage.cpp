#include "boot/x86_64/bzimage.h"

#include <cstddef>
#include <cstring>

#include <fmt/format.h>

namespace vmm::boot {

namespace {

constexpr size_t HEADER_OFFSET = 0x1f1;
constexpr size_t MAGIC_OFFSET = 0x202;
constexpr uint16_t MIN_PROTOCOL = 0x0206;    // cmdline_size exists from 2.06
constexpr size_t SECTOR = 512;
constexpr uint8_t DEFAULT_SETUP_SECTS = 4;   // setup_sects == 0 means 4

}  // namespace

bool is_bzimage(std::span<const uint8_t> image) {
    uint32_t magic = 0;
    if (image.size() < MAGIC_OFFSET + sizeof magic)
        return false;
    std::memcpy(&magic, image.data() + MAGIC_OFFSET, sizeof magic);
    return magic == HDRS_MAGIC;
}

Result<BzImage> parse_bzimage(std::span<const uint8_t> image) {
    if (!is_bzimage(image))
        return Error("not a bzImage (no HdrS signature)");
    // The header extends to 0x202 + the jump offset at 0x201 (boot.rst, "the setup header").
    const size_t header_end = std::min<size_t>(MAGIC_OFFSET + image[0x201],
                                               HEADER_OFFSET + sizeof(setup_header));
    if (image.size() < HEADER_OFFSET + sizeof(setup_header) || header_end < 0x23c)
        return Error("truncated bzImage: setup header incomplete");

    BzImage bz{};
    std::memcpy(&bz.header, image.data() + HEADER_OFFSET, sizeof(setup_header));
    bz.header_bytes = image.subspan(HEADER_OFFSET, header_end - HEADER_OFFSET);
    const setup_header& hdr = bz.header;

    if (hdr.boot_flag != BOOT_FLAG)
        return Error(fmt::format("bzImage boot flag is {:#x}, expected 0xaa55",
                                 static_cast<unsigned>(hdr.boot_flag)));  // a copy: the field is packed
    if (hdr.version < MIN_PROTOCOL)
        return Error(fmt::format("bzImage boot protocol {}.{:02} is too old (need 2.06 or newer)",
                                 hdr.version >> 8, hdr.version & 0xff));
    if (!(hdr.loadflags & LOADED_HIGH))
        return Error("zImage (loaded below 1 MiB) is not supported; need a bzImage");
    if (!(hdr.xloadflags & XLF_KERNEL_64))
        return Error("bzImage has no 64-bit entry point (xloadflags lacks XLF_KERNEL_64)");

    const size_t setup_sects = hdr.setup_sects ? hdr.setup_sects : DEFAULT_SETUP_SECTS;
    const size_t setup_size = (setup_sects + 1) * SECTOR;
    if (image.size() <= setup_size)
        return Error(fmt::format("truncated bzImage: {} bytes, setup alone is {}", image.size(),
                                 setup_size));
    bz.payload = image.subspan(setup_size);
    const uint64_t declared = uint64_t(hdr.syssize) * 16;
    if (declared > bz.payload.size())
        return Error(fmt::format("truncated bzImage: header declares {} bytes of kernel, file has {}",
                                 declared, bz.payload.size()));
    bz.memory_needed = std::max<uint64_t>(hdr.init_size, bz.payload.size());
    return bz;
}

}  // namespace vmm::boot
