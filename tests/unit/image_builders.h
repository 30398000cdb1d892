// Crafted kernel images for loader tests: a minimal valid bzImage and ELF that each test
// then breaks in one way.
#pragma once

#include <asm/bootparam.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <vector>

namespace vmm::test {

struct BzImageSpec {
    uint16_t version = 0x020f;
    uint8_t setup_sects = 1;
    uint32_t payload_size = 4096;
    uint32_t init_size = 0x10000;
    uint32_t cmdline_size = 255;
    uint32_t initrd_addr_max = 0x7fffffff;
    bool kernel_64 = true;
};

std::vector<uint8_t> make_bzimage(const BzImageSpec& spec = {});

struct ElfSpec {
    uint16_t machine = 62;  // EM_X86_64
    uint8_t elf_class = 2;  // ELFCLASS64
    uint64_t paddr = 0x100000;
    uint64_t filesz = 0x100;
    uint64_t memsz = 0x2000;
    uint64_t entry = 0x100000;
    std::optional<uint32_t> pvh_entry;
};

std::vector<uint8_t> make_elf(const ElfSpec& spec = {});

template <typename T>
void put(std::vector<uint8_t>& image, size_t offset, T value) {
    std::memcpy(image.data() + offset, &value, sizeof value);
}

}  // namespace vmm::test
