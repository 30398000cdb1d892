// The arm64 Linux kernel Image (Documentation/arm64/booting.rst): a 64-byte header with the
// "ARM\x64" magic, text_offset, image_size and flags, loaded at a 2 MiB aligned base plus
// text_offset and entered at its first byte with x0 = the device tree. Distributions ship it
// gzip-compressed (Debian's vmlinuz for arm64), which the loader unpacks, as QEMU and
// Firecracker do, since an arm64 Image has no decompressor of its own.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"

namespace vmm::boot::aarch64 {

struct ImageHeader {
    uint64_t text_offset;  // from the 2 MiB aligned base
    uint64_t image_size;   // bytes from the load address the kernel uses, BSS included
    bool anywhere;         // flags bit 3: any 2 MiB aligned base in RAM, not only the lowest
};

// True for a gzip stream (RFC 1952 magic).
bool is_gzip(std::span<const uint8_t> file);

// The Image inside a gzip file, at most `max_size` bytes unpacked: a larger one is refused (a
// compressed file cannot make Ember allocate more than the guest's RAM).
Result<std::vector<uint8_t>> gunzip(std::span<const uint8_t> file, uint64_t max_size);

// The header of an uncompressed Image, checked: magic, little-endian kernel, sizes.
Result<ImageHeader> parse_image_header(std::span<const uint8_t> image);

struct LoadedImage {
    uint64_t entry;  // where the Image was copied: the vCPU's PC
    uint64_t end;    // entry + image_size (or the file's size when larger)
};

// Copies the Image to ram_base (2 MiB aligned) + text_offset; it and its image_size must fit
// in [ram_base, ram_base + ram_size).
Result<LoadedImage> load_image(GuestMemory& memory, std::span<const uint8_t> image, uint64_t ram_base,
                               uint64_t ram_size);

}  // namespace vmm::boot::aarch64
