// Linux bzImage (x86 boot protocol >= 2.06, Documentation/arch/x86/boot.rst): setup header
// parsing and loading of the protected-mode kernel for the 64-bit entry point.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <span>

#include "base/result.h"

namespace vmm::boot {

// The setup header's "HdrS" magic and boot flag (the zero page of a kernel loaded from an ELF
// carries them too).
inline constexpr uint32_t HDRS_MAGIC = 0x53726448;
inline constexpr uint16_t BOOT_FLAG = 0xaa55;

struct BzImage {
    setup_header header;                   // as found in the file
    std::span<const uint8_t> header_bytes;  // the raw header, to copy into the zero page
    std::span<const uint8_t> payload;       // protected-mode kernel
    uint64_t memory_needed;                 // bytes from the load address (init_size)
};

// True when the image carries the "HdrS" boot protocol magic.
bool is_bzimage(std::span<const uint8_t> image);

// Validates everything the loader relies on; `image` must outlive the result.
Result<BzImage> parse_bzimage(std::span<const uint8_t> image);

}  // namespace vmm::boot
