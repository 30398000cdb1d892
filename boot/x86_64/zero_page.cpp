#include "boot/x86_64/zero_page.h"

#include <cstring>

#include <fmt/format.h>

#include "boot/x86_64/bzimage.h"

namespace vmm::boot {

namespace {

constexpr uint8_t LOADER_UNDEFINED = 0xff;  // boot.rst: type_of_loader for unlisted loaders
constexpr uint32_t VMLINUX_ALIGNMENT = 0x1000000;

}  // namespace

Result<boot_params> build_zero_page(const ZeroPageSpec& spec) {
    if (spec.e820.size() > E820_MAX_ENTRIES_ZEROPAGE)
        return Error(fmt::format("{} e820 entries do not fit the zero page", spec.e820.size()));
    boot_params params{};
    if (!spec.setup_header.empty()) {
        const size_t len = std::min(spec.setup_header.size(), sizeof(setup_header));
        std::memcpy(&params.hdr, spec.setup_header.data(), len);
    } else {
        params.hdr.boot_flag = BOOT_FLAG;
        params.hdr.header = HDRS_MAGIC;
        params.hdr.kernel_alignment = VMLINUX_ALIGNMENT;
        params.hdr.cmdline_size = spec.cmdline_capacity;
    }
    params.hdr.type_of_loader = LOADER_UNDEFINED;
    params.hdr.cmd_line_ptr = static_cast<uint32_t>(spec.cmdline_addr);
    params.ext_cmd_line_ptr = static_cast<uint32_t>(spec.cmdline_addr >> 32);
    params.hdr.ramdisk_image = static_cast<uint32_t>(spec.initrd.addr);
    params.hdr.ramdisk_size = static_cast<uint32_t>(spec.initrd.size);
    params.ext_ramdisk_image = static_cast<uint32_t>(spec.initrd.addr >> 32);
    params.ext_ramdisk_size = static_cast<uint32_t>(spec.initrd.size >> 32);

    params.e820_entries = static_cast<uint8_t>(spec.e820.size());
    for (size_t i = 0; i < spec.e820.size(); ++i) {
        params.e820_table[i].addr = spec.e820[i].addr;
        params.e820_table[i].size = spec.e820[i].size;
        params.e820_table[i].type = static_cast<uint32_t>(spec.e820[i].type);
    }
    return params;
}

}  // namespace vmm::boot
