#include "boot/elf.h"

#include <elf.h>
#include <gtest/gtest.h>

#include "image_builders.h"

namespace vmm::boot {
namespace {

using test::ElfSpec;
using test::make_elf;

TEST(Elf, ParsesLoadSegmentByPhysicalAddress) {
    auto image = make_elf();
    auto elf = parse_elf(image);
    ASSERT_TRUE(elf.ok()) << elf.error().message();
    ASSERT_EQ(elf->segments.size(), 1u);
    EXPECT_EQ(elf->segments[0].paddr, 0x100000u);
    EXPECT_EQ(elf->segments[0].data.size(), 0x100u);
    EXPECT_EQ(elf->segments[0].memsz, 0x2000u);
    EXPECT_EQ(elf->end, 0x102000u);
    EXPECT_FALSE(elf->pvh_entry.has_value());
}

TEST(Elf, FindsThePvhEntryNote) {
    auto elf = parse_elf(make_elf({.pvh_entry = 0x100040}));
    ASSERT_TRUE(elf.ok()) << elf.error().message();
    ASSERT_TRUE(elf->pvh_entry.has_value());
    EXPECT_EQ(*elf->pvh_entry, 0x100040u);
}

TEST(Elf, RejectsAnotherMachine) {
    auto elf = parse_elf(make_elf({.machine = EM_AARCH64}));
    ASSERT_FALSE(elf.ok());
    EXPECT_EQ(elf.error().message(), "ELF machine 183 is not x86_64 (62)");
}

// Small PVH kernels are often linked as ELF32 i386: the PVH entry is 32-bit whatever the class.
TEST(Elf, Accepts32BitElfWithAPvhEntry) {
    auto elf = parse_elf(make_elf({.machine = EM_386, .elf_class = ELFCLASS32, .pvh_entry = 0x100020}));
    ASSERT_TRUE(elf.ok()) << elf.error().message();
    EXPECT_EQ(*elf->pvh_entry, 0x100020u);
    ASSERT_EQ(elf->segments.size(), 1u);
    EXPECT_EQ(elf->segments[0].paddr, 0x100000u);
    EXPECT_EQ(elf->segments[0].memsz, 0x2000u);
}

TEST(Elf, Rejects32BitElfWithoutAPvhEntry) {
    auto elf = parse_elf(make_elf({.machine = EM_386, .elf_class = ELFCLASS32}));
    ASSERT_FALSE(elf.ok());
    EXPECT_NE(elf.error().message().find("PVH entry"), std::string::npos);
}

TEST(Elf, Rejects32BitElfForAnotherMachine) {
    auto elf = parse_elf(make_elf({.machine = EM_X86_64, .elf_class = ELFCLASS32, .pvh_entry = 0x100020}));
    ASSERT_FALSE(elf.ok());
    EXPECT_EQ(elf.error().message(), "ELF machine 62 is not i386 (3)");
}

TEST(Elf, RejectsSegmentRunningPastTheFile) {
    auto image = make_elf();
    image.resize(image.size() - 1);
    auto elf = parse_elf(image);
    ASSERT_FALSE(elf.ok());
    EXPECT_NE(elf.error().message().find("runs past the end"), std::string::npos);
}

TEST(Elf, RejectsProgramHeadersPastTheFile) {
    auto image = make_elf();
    test::put<uint64_t>(image, offsetof(Elf64_Ehdr, e_phoff), image.size() - 8);
    EXPECT_FALSE(parse_elf(image).ok());
}

TEST(Elf, RejectsFileSizeLargerThanMemorySize) {
    EXPECT_FALSE(parse_elf(make_elf({.filesz = 0x100, .memsz = 0x80})).ok());
}

TEST(Elf, RejectsSegmentWrappingAddressSpace) {
    EXPECT_FALSE(parse_elf(make_elf({.paddr = UINT64_MAX - 0x10})).ok());
}

TEST(Elf, RejectsNoteWithBadSizes) {
    auto image = make_elf({.pvh_entry = 0x100000});
    const size_t note_off = sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr);
    test::put<uint32_t>(image, note_off + 4, 0xfffffff0);  // n_descsz runs far past the note
    EXPECT_FALSE(parse_elf(image).ok());
}

TEST(Elf, RejectsTruncatedHeader) {
    auto image = make_elf();
    image.resize(20);
    EXPECT_FALSE(parse_elf(image).ok());
}

}  // namespace
}  // namespace vmm::boot
