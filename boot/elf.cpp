#include "boot/elf.h"

#include <elf.h>

#include <cstring>

#include <fmt/format.h>

namespace vmm::boot {

namespace {

constexpr uint32_t XEN_ELFNOTE_PHYS32_ENTRY = 18;  // xen/include/public/elfnote.h
constexpr uint64_t MAX_SEGMENTS = 64;

template <typename T>
Result<T> read_at(std::span<const uint8_t> image, uint64_t offset) {
    if (offset > image.size() || image.size() - offset < sizeof(T))
        return Error(fmt::format("truncated ELF: {} bytes needed at offset {:#x}", sizeof(T), offset));
    T value;
    std::memcpy(&value, image.data() + offset, sizeof(T));
    return value;
}

uint64_t align4(uint64_t v) { return (v + 3) & ~uint64_t(3); }

// Walks one PT_NOTE segment's notes (ELF gABI "Note Section") looking for the PVH entry.
Result<std::optional<uint32_t>> find_pvh_note(std::span<const uint8_t> notes) {
    uint64_t pos = 0;
    while (notes.size() - pos >= sizeof(Elf64_Nhdr)) {
        const auto nhdr = TRY(read_at<Elf64_Nhdr>(notes, pos));
        const uint64_t name_at = pos + sizeof(Elf64_Nhdr);
        const uint64_t desc_at = name_at + align4(nhdr.n_namesz);
        const uint64_t next = desc_at + align4(nhdr.n_descsz);
        if (next > notes.size())
            return Error("ELF note runs past its segment");
        const bool is_xen = nhdr.n_namesz == 4 && std::memcmp(notes.data() + name_at, "Xen", 4) == 0;
        if (is_xen && nhdr.n_type == XEN_ELFNOTE_PHYS32_ENTRY) {
            if (nhdr.n_descsz != 4 && nhdr.n_descsz != 8)
                return Error(fmt::format("PVH entry note has {} bytes", nhdr.n_descsz));
            return std::optional<uint32_t>(TRY(read_at<uint32_t>(notes, desc_at)));
        }
        pos = next;
    }
    return std::optional<uint32_t>{};
}

// The two ELF classes a kernel comes in: ELF64 x86_64 (vmlinux, PVH), and ELF32 i386, which
// small PVH kernels are often linked as (the PVH entry is 32-bit whatever the class).
struct Elf64 {
    using Ehdr = Elf64_Ehdr;
    using Phdr = Elf64_Phdr;
    static constexpr uint16_t MACHINE = EM_X86_64;
    static constexpr const char* MACHINE_NAME = "x86_64";
};
struct Elf32 {
    using Ehdr = Elf32_Ehdr;
    using Phdr = Elf32_Phdr;
    static constexpr uint16_t MACHINE = EM_386;
    static constexpr const char* MACHINE_NAME = "i386";
};

template <typename Class>
Status check_header(const typename Class::Ehdr& eh) {
    if (eh.e_ident[EI_DATA] != ELFDATA2LSB)
        return Error("big-endian ELF is not an x86_64 kernel");
    if (eh.e_machine != Class::MACHINE)
        return Error(fmt::format("ELF machine {} is not {} ({})", eh.e_machine, Class::MACHINE_NAME, Class::MACHINE));
    if (eh.e_type != ET_EXEC)
        return Error(fmt::format("ELF type {} is not an executable", eh.e_type));
    if (eh.e_phentsize != sizeof(typename Class::Phdr))
        return Error(fmt::format("ELF program header size {} is not {}", eh.e_phentsize,
                                 sizeof(typename Class::Phdr)));
    if (eh.e_phnum == 0 || eh.e_phnum > MAX_SEGMENTS)
        return Error(fmt::format("ELF has {} program headers", eh.e_phnum));
    return {};
}

template <typename Class>
Result<ElfKernel> parse_class(std::span<const uint8_t> image) {
    using Phdr = typename Class::Phdr;
    const auto eh = TRY(read_at<typename Class::Ehdr>(image, 0));
    TRY(check_header<Class>(eh));

    ElfKernel kernel{eh.e_entry, std::nullopt, {}, UINT64_MAX, 0};
    for (uint64_t i = 0; i < eh.e_phnum; ++i) {
        const auto ph = TRY(read_at<Phdr>(image, eh.e_phoff + i * sizeof(Phdr)));
        if (ph.p_type != PT_LOAD && ph.p_type != PT_NOTE)
            continue;
        if (ph.p_offset > image.size() || ph.p_filesz > image.size() - ph.p_offset)
            return Error(fmt::format("truncated ELF: segment {} runs past the end of the file", i));
        const auto bytes = image.subspan(ph.p_offset, ph.p_filesz);
        if (ph.p_type == PT_NOTE) {
            if (!kernel.pvh_entry)
                kernel.pvh_entry = TRY(find_pvh_note(bytes));
            continue;
        }
        const uint64_t paddr = ph.p_paddr, memsz = ph.p_memsz;
        if (ph.p_filesz > memsz || paddr + memsz < paddr)
            return Error(fmt::format("ELF segment {} has an invalid size", i));
        kernel.segments.push_back({paddr, bytes, memsz});
        kernel.lowest_paddr = std::min(kernel.lowest_paddr, paddr);
        kernel.end = std::max(kernel.end, paddr + memsz);
    }
    if (kernel.segments.empty())
        return Error("ELF has no loadable segment");
    return kernel;
}

}  // namespace

bool is_elf(std::span<const uint8_t> image) {
    return image.size() >= SELFMAG && std::memcmp(image.data(), ELFMAG, SELFMAG) == 0;
}

Result<ElfKernel> parse_elf(std::span<const uint8_t> image) {
    if (!is_elf(image))
        return Error("not an ELF file");
    const uint8_t elf_class = image.size() > EI_CLASS ? image[EI_CLASS] : 0;
    if (elf_class == ELFCLASS64)
        return parse_class<Elf64>(image);
    if (elf_class != ELFCLASS32)
        return Error(fmt::format("ELF class {} is neither ELF32 nor ELF64", elf_class));
    auto kernel = TRY(parse_class<Elf32>(image));
    // An ELF32 kernel has no 64-bit entry; only its PVH entry can be booted.
    if (!kernel.pvh_entry)
        return Error("32-bit ELF kernel without a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY)");
    return kernel;
}

}  // namespace vmm::boot
