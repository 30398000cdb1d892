#include "boot/kernel_loader.h"

#include <fmt/format.h>

#include "arch/x86_64/layout.h"
#include "boot/bzimage.h"
#include "boot/elf.h"
#include "boot/initrd.h"
#include "boot/pvh.h"
#include "boot/zero_page.h"

namespace vmm::boot {

namespace layout = arch::x86_64::layout;

namespace {

constexpr uint32_t VMLINUX_CMDLINE_CAPACITY = 2047;  // x86 COMMAND_LINE_SIZE 2048, NUL excluded
constexpr uint64_t LEGACY_INITRD_ADDR_MAX = 0x37ffffff;  // boot.rst, protocols < 2.03

Status write_cmdline(GuestMemory& memory, const KernelCmdline& cmdline, uint64_t capacity) {
    TRY(cmdline.check_fits(std::min<uint64_t>(capacity, layout::CMDLINE_MAX - 1)));
    const auto& text = cmdline.str();
    TRY(memory.write(layout::CMDLINE_ADDR,
                     std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())));
    return memory.store<uint8_t>(layout::CMDLINE_ADDR + text.size(), 0);
}

Status check_fits(uint64_t start, uint64_t size, uint64_t low_ram_end, const char* what) {
    if (start < layout::BIOS_END)
        return Error(fmt::format("{} at {:#x} overlaps the boot area below 1 MiB", what, start));
    if (start > low_ram_end || size > low_ram_end - start)
        return Error(fmt::format("{} needs {} MiB at {:#x}; guest RAM below the MMIO hole ends at "
                                 "{:#x}; give the guest more --memory",
                                 what, (size + layout::MiB - 1) / layout::MiB, start, low_ram_end));
    return {};
}

Result<LoadedKernel> load_bzimage(GuestMemory& memory, const BootSpec& spec) {
    const auto bz = TRY_CTX(parse_bzimage(spec.kernel), "kernel");
    TRY(check_fits(layout::KERNEL_LOAD_ADDR, bz.memory_needed, spec.low_ram_end, "kernel"));
    TRY(memory.write(layout::KERNEL_LOAD_ADDR, bz.payload));
    TRY(write_cmdline(memory, spec.cmdline, bz.header.cmdline_size));
    const uint64_t addr_max = bz.header.version >= 0x203 ? bz.header.initrd_addr_max
                                                         : LEGACY_INITRD_ADDR_MAX;
    const auto initrd = TRY(load_initrd(memory, spec.initrd,
                                        layout::KERNEL_LOAD_ADDR + bz.memory_needed,
                                        spec.low_ram_end, addr_max));
    auto params = TRY(build_zero_page({bz.header_bytes, layout::CMDLINE_ADDR,
                                       bz.header.cmdline_size, initrd, spec.e820}));
    params.hdr.code32_start = static_cast<uint32_t>(layout::KERNEL_LOAD_ADDR);
    TRY(memory.store(layout::ZERO_PAGE_ADDR, params));
    // boot.rst "64-bit BOOT PROTOCOL": the 64-bit entry is 0x200 past the load address.
    return LoadedKernel{KernelFormat::BzImage,
                        {EntryMode::Long64, layout::KERNEL_LOAD_ADDR + 0x200, layout::ZERO_PAGE_ADDR},
                        initrd};
}

Result<LoadedKernel> load_elf(GuestMemory& memory, const BootSpec& spec) {
    const auto elf = TRY_CTX(parse_elf(spec.kernel), "kernel");
    for (const auto& segment : elf.segments) {
        TRY(check_fits(segment.paddr, segment.memsz, spec.low_ram_end, "kernel segment"));
        TRY(memory.write(segment.paddr, segment.data));
        TRY(memory.fill(segment.paddr + segment.data.size(), 0, segment.memsz - segment.data.size()));
    }
    const uint64_t entry = elf.pvh_entry ? *elf.pvh_entry : elf.entry;
    if (entry < elf.lowest_paddr || entry >= elf.end)
        return Error(fmt::format("kernel: entry point {:#x} is outside its loaded segments", entry));
    TRY(write_cmdline(memory, spec.cmdline, VMLINUX_CMDLINE_CAPACITY));
    const auto initrd =
        TRY(load_initrd(memory, spec.initrd, elf.end, spec.low_ram_end, UINT64_MAX));
    if (elf.pvh_entry) {
        const uint64_t info = TRY(write_pvh_start_info(memory, layout::PVH_INFO_ADDR, layout::CMDLINE_ADDR,
                                                       spec.acpi_rsdp, initrd, spec.e820));
        return LoadedKernel{KernelFormat::Pvh, {EntryMode::Pvh32, entry, info}, initrd};
    }
    const auto params = TRY(build_zero_page(
        {{}, layout::CMDLINE_ADDR, VMLINUX_CMDLINE_CAPACITY, initrd, spec.e820}));
    TRY(memory.store(layout::ZERO_PAGE_ADDR, params));
    return LoadedKernel{KernelFormat::Vmlinux,
                        {EntryMode::Long64, entry, layout::ZERO_PAGE_ADDR}, initrd};
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
