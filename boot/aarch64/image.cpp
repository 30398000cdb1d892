#include "boot/aarch64/image.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace vmm::boot::aarch64 {

namespace {

// booting.rst "Call the kernel image": the header's fields, little-endian.
constexpr size_t HEADER_SIZE = 64;
constexpr size_t TEXT_OFFSET_AT = 8, IMAGE_SIZE_AT = 16, FLAGS_AT = 24, MAGIC_AT = 56;
constexpr uint32_t MAGIC = 0x644d5241;  // "ARM\x64"
constexpr uint64_t FLAG_BIG_ENDIAN = 1, FLAG_ANYWHERE = 1 << 3;
constexpr uint64_t BASE_ALIGN = 2ull << 20;
// Kernels before 3.17 leave image_size 0 and load at this offset (booting.rst).
constexpr uint64_t LEGACY_TEXT_OFFSET = 0x80000;

template <typename T>
T load_le(std::span<const uint8_t> bytes, size_t at) {
    T value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;  // the hosts Ember builds for are little-endian
}

}  // namespace

bool is_gzip(std::span<const uint8_t> file) { return file.size() >= 2 && file[0] == 0x1f && file[1] == 0x8b; }

Result<std::vector<uint8_t>> gunzip(std::span<const uint8_t> file, uint64_t max_size) {
    z_stream stream{};
    // 16 + MAX_WBITS: a gzip wrapper, not zlib's.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
        return Error(ErrorKind::HostResource, "kernel: zlib could not start inflating");
    std::vector<uint8_t> out(std::min<uint64_t>(max_size, std::max<uint64_t>(file.size() * 4, 1 << 20)));
    stream.next_in = const_cast<Bytef*>(file.data());  // zlib's API is not const-correct; it only reads
    stream.avail_in = static_cast<uInt>(std::min<size_t>(file.size(), UINT32_MAX));
    int status = Z_OK;
    while (status == Z_OK) {
        if (stream.total_out == out.size()) {
            if (out.size() >= max_size)
                break;
            out.resize(std::min<uint64_t>(max_size, out.size() * 2));
        }
        stream.next_out = out.data() + stream.total_out;
        stream.avail_out = static_cast<uInt>(std::min<uint64_t>(out.size() - stream.total_out, UINT32_MAX));
        status = inflate(&stream, Z_NO_FLUSH);
    }
    const uint64_t produced = stream.total_out;
    const char* message = stream.msg;
    inflateEnd(&stream);
    if (status == Z_STREAM_END) {
        out.resize(produced);
        return out;
    }
    if (status == Z_OK)
        return Error(fmt::format("kernel: the gzip-compressed Image unpacks to more than {} MiB (the guest's RAM)",
                                 max_size >> 20));
    return Error(fmt::format("kernel: the gzip stream is damaged or truncated ({})", message ? message : zError(status)));
}

Result<ImageHeader> parse_image_header(std::span<const uint8_t> image) {
    if (image.size() < HEADER_SIZE || load_le<uint32_t>(image, MAGIC_AT) != MAGIC)
        return Error("kernel: not an arm64 Image (no \"ARM\\x64\" magic at offset 56), nor a gzip-compressed one");
    const uint64_t flags = load_le<uint64_t>(image, FLAGS_AT);
    ImageHeader header{load_le<uint64_t>(image, TEXT_OFFSET_AT), load_le<uint64_t>(image, IMAGE_SIZE_AT),
                       (flags & FLAG_ANYWHERE) != 0};
    if (header.image_size == 0)
        header.text_offset = LEGACY_TEXT_OFFSET;
    if (flags & FLAG_BIG_ENDIAN)
        return Error("kernel: a big-endian arm64 Image; Ember runs little-endian guests only");
    if (header.text_offset >= BASE_ALIGN || header.text_offset % 4096)
        return Error(fmt::format("kernel: the Image's text_offset {:#x} is not a page inside a 2 MiB block",
                                 header.text_offset));
    return header;
}

Result<LoadedImage> load_image(GuestMemory& memory, std::span<const uint8_t> image, uint64_t ram_base,
                               uint64_t ram_size) {
    const ImageHeader header = TRY(parse_image_header(image));
    const uint64_t base = (ram_base + BASE_ALIGN - 1) & ~(BASE_ALIGN - 1);
    const uint64_t entry = base + header.text_offset;
    const uint64_t footprint = std::max<uint64_t>(header.image_size, image.size());
    const uint64_t ram_end = ram_base + ram_size;
    if (entry < ram_base || entry > ram_end || footprint > ram_end - entry)
        return Error(fmt::format("kernel: the Image needs {} MiB from {:#x}, more than the guest's RAM ({} MiB at {:#x})",
                                 (footprint + (1 << 20) - 1) >> 20, entry, ram_size >> 20, ram_base));
    TRY_CTX(memory.write(entry, image), "kernel: copying the Image");
    return LoadedImage{entry, entry + footprint};
}

}  // namespace vmm::boot::aarch64
