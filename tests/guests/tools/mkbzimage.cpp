// mkbzimage: packs a test-guest ELF (linked at 1 MiB, 64-bit entry at +0x200) as a bzImage
// with a Linux boot protocol 2.15 setup header. Used only to build test guests.
#include <asm/bootparam.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "boot/elf.h"
#include "boot/image_file.h"

namespace {

constexpr uint64_t LOAD_ADDR = 0x100000;
constexpr size_t SETUP_SECTS = 1;
constexpr size_t SECTOR = 512;
constexpr size_t HEADER_OFFSET = 0x1f1;

int fail(const std::string& message) {
    std::fprintf(stderr, "mkbzimage: %s\n", message.c_str());
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3)
        return fail("usage: mkbzimage GUEST.elf OUT.bzImage");
    auto file = vmm::boot::read_image_file(argv[1], "guest", 64 << 20);
    if (!file.ok())
        return fail(file.error().message());
    auto elf = vmm::boot::parse_elf(*file);
    if (!elf.ok())
        return fail(elf.error().message());
    if (elf->lowest_paddr != LOAD_ADDR)
        return fail("guest must be linked at 1 MiB");

    // The protected-mode part: every segment's file bytes at its offset from 1 MiB.
    std::vector<uint8_t> payload;
    for (const auto& seg : elf->segments) {
        const size_t at = seg.paddr - LOAD_ADDR;
        if (payload.size() < at + seg.data.size())
            payload.resize(at + seg.data.size());
        std::memcpy(payload.data() + at, seg.data.data(), seg.data.size());
    }
    payload.resize((payload.size() + 15) & ~size_t(15));

    std::vector<uint8_t> image((SETUP_SECTS + 1) * SECTOR, 0);
    setup_header hdr{};
    hdr.setup_sects = SETUP_SECTS;
    hdr.syssize = static_cast<uint32_t>(payload.size() / 16);
    hdr.boot_flag = 0xaa55;
    hdr.jump = 0xeb | ((HEADER_OFFSET + sizeof(setup_header) - 0x202) << 8);
    hdr.header = 0x53726448;
    hdr.version = 0x020f;
    hdr.loadflags = LOADED_HIGH;
    hdr.code32_start = LOAD_ADDR;
    hdr.initrd_addr_max = 0x7fffffff;
    hdr.kernel_alignment = 0x200000;
    hdr.xloadflags = XLF_KERNEL_64;
    hdr.cmdline_size = 2047;
    hdr.pref_address = LOAD_ADDR;
    hdr.init_size = static_cast<uint32_t>(((elf->end - LOAD_ADDR) + 4095) & ~uint64_t(4095));
    std::memcpy(image.data() + HEADER_OFFSET, &hdr, sizeof hdr);
    image.insert(image.end(), payload.begin(), payload.end());

    std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(image.data()), static_cast<std::streamsize>(image.size()));
    if (!out)
        return fail(std::string("cannot write ") + argv[2]);
    return 0;
}
