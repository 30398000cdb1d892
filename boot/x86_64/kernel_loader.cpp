#include "boot/x86_64/kernel_loader.h"

#include <fmt/format.h>

#include "boot/elf.h"
#include "boot/initrd.h"
#include "boot/x86_64/bzimage.h"
#include "boot/x86_64/pvh.h"
#include "boot/x86_64/zero_page.h"

namespace vmm::boot {

namespace {

constexpr uint64_t MiB = 1ull << 20;
constexpr uint32_t VMLINUX_CMDLINE_CAPACITY = 2047;  // x86 COMMAND_LINE_SIZE 2048, NUL excluded
constexpr uint64_t LEGACY_INITRD_ADDR_MAX = 0x37ffffff;  // boot.rst, protocols < 2.03

Status write_cmdline(GuestMemory& memory, const BootSpec& spec, uint64_t capacity) {
    TRY(spec.cmdline.check_fits(std::min<uint64_t>(capacity, spec.layout.cmdline_max - 1)));
    const auto& text = spec.cmdline.str();
    TRY(memory.write(spec.layout.cmdline_addr,
                     std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
    return memory.store<uint8_t>(spec.layout.cmdline_addr + text.size(), 0);
}

Status check_fits(const BootSpec& spec, uint64_t start, uint64_t size, const char* what) {
    const uint64_t low_ram_end = spec.low_ram_end;
    if (start < spec.layout.reserved_end)
        return Error(fmt::format("{} at {:#x} overlaps the boot area below {:#x}", what, start,
                                 spec.layout.reserved_end));
    if (start > low_ram_end || size > low_ram_end - start)
        return Error(fmt::format("{} needs {} MiB at {:#x}; guest RAM below the MMIO hole ends at "
                                 "{:#x}; give the guest more --memory",
                                 what, (size + MiB - 1) / MiB, start, low_ram_end));
    return {};
}

Result<LoadedKernel> load_bzimage(GuestMemory& memory, const BootSpec& spec) {
    const auto bz = TRY_CTX(parse_bzimage(spec.kernel), "kernel");
    const BootLayout& layout = spec.layout;
    TRY(check_fits(spec, layout.kernel_load_addr, bz.memory_needed, "kernel"));
    TRY(memory.write(layout.kernel_load_addr, bz.payload));
    TRY(write_cmdline(memory, spec, bz.header.cmdline_size));
    const uint64_t addr_max = bz.header.version >= 0x203 ? bz.header.initrd_addr_max
                                                         : LEGACY_INITRD_ADDR_MAX;
    const auto initrd = TRY(load_initrd(memory, spec.initrd,
                                        layout.kernel_load_addr + bz.memory_needed,
                                        spec.low_ram_end, addr_max));
    auto params = TRY(build_zero_page({bz.header_bytes, layout.cmdline_addr,
                                       bz.header.cmdline_size, initrd, spec.e820}));
    params.hdr.code32_start = static_cast<uint32_t>(layout.kernel_load_addr);
    TRY(memory.store(layout.zero_page_addr, params));
    // boot.rst "64-bit BOOT PROTOCOL": the 64-bit entry is 0x200 past the load address.
    return LoadedKernel{KernelFormat::BzImage,
                        {EntryMode::Long64, layout.kernel_load_addr + 0x200, layout.zero_page_addr},
                        initrd};
}

Result<LoadedKernel> load_elf(GuestMemory& memory, const BootSpec& spec) {
    const auto elf = TRY_CTX(parse_elf(spec.kernel), "kernel");
    for (const auto& segment : elf.segments) {
        TRY(check_fits(spec, segment.paddr, segment.memsz, "kernel segment"));
        TRY(memory.write(segment.paddr, segment.data));
        TRY(memory.fill(segment.paddr + segment.data.size(), 0, segment.memsz - segment.data.size()));
    }
    const uint64_t entry = elf.pvh_entry ? *elf.pvh_entry : elf.entry;
    if (entry < elf.lowest_paddr || entry >= elf.end)
        return Error(fmt::format("kernel: entry point {:#x} is outside its loaded segments", entry));
    TRY(write_cmdline(memory, spec, VMLINUX_CMDLINE_CAPACITY));
    const BootLayout& layout = spec.layout;
    const auto initrd =
        TRY(load_initrd(memory, spec.initrd, elf.end, spec.low_ram_end, UINT64_MAX));
    if (elf.pvh_entry) {
        const uint64_t info = TRY(write_pvh_start_info(memory, layout.pvh_info_addr, layout.cmdline_addr,
                                                       spec.acpi_rsdp, initrd, spec.e820));
        return LoadedKernel{KernelFormat::Pvh, {EntryMode::Pvh32, entry, info}, initrd};
    }
    const auto params = TRY(build_zero_page(
        {{}, layout.cmdline_addr, VMLINUX_CMDLINE_CAPACITY, initrd, spec.e820}));
    TRY(memory.store(layout.zero_page_addr, params));
    return LoadedKernel{KernelFormat::Vmlinux,
                        {EntryMode::Long64, entry, layout.zero_page_addr}, initrd};
}

}  // namespace

Result<LoadedKernel> load_kernel(GuestMemory& memory, const BootSpec& spec) {
    if (is_bzimage(spec.kernel))
        return load_bzimage(memory, spec);
    if (is_elf(spec.kernel))
        return load_elf(memory, spec);
    return Error("kernel: not a kernel image (neither a bzImage nor an ELF file)");
}

const char* format_name(KernelFormat format) {
    switch (format) {
    case KernelFormat::BzImage: return "bzImage";
    case KernelFormat::Vmlinux: return "vmlinux ELF";
    case KernelFormat::Pvh: return "PVH ELF";
    }
    return "?";
}

}  // namespace vmm::boot
