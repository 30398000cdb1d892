#include "image_builders.h"

#include <elf.h>

namespace vmm::test {

std::vector<uint8_t> make_bzimage(const BzImageSpec& spec) {
    const size_t setup = (size_t(spec.setup_sects ? spec.setup_sects : 4) + 1) * 512;
    std::vector<uint8_t> image(setup + spec.payload_size, 0);
    setup_header hdr{};
    hdr.setup_sects = spec.setup_sects;
    hdr.syssize = spec.payload_size / 16;
    hdr.boot_flag = 0xaa55;
    hdr.jump = 0xeb | ((0x1f1 + sizeof(setup_header) - 0x202) << 8);
    hdr.header = 0x53726448;
    hdr.version = spec.version;
    hdr.loadflags = LOADED_HIGH;
    hdr.initrd_addr_max = spec.initrd_addr_max;
    hdr.xloadflags = spec.kernel_64 ? XLF_KERNEL_64 : 0;
    hdr.cmdline_size = spec.cmdline_size;
    hdr.init_size = spec.init_size;
    std::memcpy(image.data() + 0x1f1, &hdr, sizeof hdr);
    for (size_t i = 0; i < spec.payload_size; ++i)
        image[setup + i] = static_cast<uint8_t>(i * 7);
    return image;
}

namespace {

// The same image in either ELF class.
template <typename Ehdr, typename Phdr, typename Nhdr>
std::vector<uint8_t> build_elf(const ElfSpec& spec) {
    // Layout: ELF header, two program headers (LOAD, NOTE), note, segment bytes.
    const size_t phoff = sizeof(Ehdr);
    const size_t note_off = phoff + 2 * sizeof(Phdr);
    const size_t note_size = sizeof(Nhdr) + 4 + 4;
    const size_t data_off = 0x200;
    std::vector<uint8_t> image(data_off + spec.filesz, 0);

    Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = spec.elf_class;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = spec.machine;
    eh.e_version = EV_CURRENT;
    eh.e_entry = spec.entry;
    eh.e_phoff = phoff;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Phdr);
    eh.e_phnum = spec.pvh_entry ? 2 : 1;
    put(image, 0, eh);

    Phdr load{};
    load.p_type = PT_LOAD;
    load.p_offset = data_off;
    load.p_paddr = load.p_vaddr = spec.paddr;
    load.p_filesz = spec.filesz;
    load.p_memsz = spec.memsz;
    put(image, phoff, load);
    for (size_t i = 0; i < spec.filesz; ++i)
        image[data_off + i] = static_cast<uint8_t>(0xc0 + i);

    if (spec.pvh_entry) {
        Phdr note{};
        note.p_type = PT_NOTE;
        note.p_offset = note_off;
        note.p_filesz = note_size;
        put(image, phoff + sizeof(Phdr), note);
        Nhdr nh{4, 4, 18};
        put(image, note_off, nh);
        std::memcpy(image.data() + note_off + sizeof nh, "Xen", 4);
        put(image, note_off + sizeof nh + 4, *spec.pvh_entry);
    }
    return image;
}

}  // namespace

std::vector<uint8_t> make_elf(const ElfSpec& spec) {
    return spec.elf_class == ELFCLASS32 ? build_elf<Elf32_Ehdr, Elf32_Phdr, Elf32_Nhdr>(spec)
                                        : build_elf<Elf64_Ehdr, Elf64_Phdr, Elf64_Nhdr>(spec);
}

}  // namespace vmm::test
