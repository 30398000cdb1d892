#include "boot/x86_64/kernel_loader.h"

#include <asm/bootparam.h>
#include <gtest/gtest.h>

#include "arch/x86_64/layout.h"
#include "arch/x86_64/memory_map.h"
#include "boot/x86_64/pvh.h"
#include "image_builders.h"
#include "vmm/boot_layout.h"

namespace vmm::boot {
namespace {

namespace layout = arch::x86_64::layout;
constexpr uint64_t MEM = 64 << 20;

struct KernelLoaderTest : ::testing::Test {
    GuestMemory memory = [] {
        const MemoryRegionSpec spec[] = {{0, MEM}};
        return std::move(GuestMemory::create(spec).value());
    }();
    KernelCmdline cmdline = KernelCmdline::create("console=ttyS0 quiet").value();

    Result<LoadedKernel> load(const std::vector<uint8_t>& kernel, const std::vector<uint8_t>& initrd = {}) {
        return load_kernel(memory, {kernel, initrd, cmdline, x86_boot_layout(), arch::x86_64::e820_map(MEM), MEM});
    }
    std::string read_cmdline(uint64_t addr) {
        std::string s;
        for (char c; (c = static_cast<char>(memory.load<uint8_t>(addr + s.size()).value()));)
            s.push_back(c);
        return s;
    }
};

TEST_F(KernelLoaderTest, BzImageEntersAt0x200PastLoadAddressWithZeroPage) {
    auto loaded = load(test::make_bzimage());
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ(loaded->format, KernelFormat::BzImage);
    EXPECT_EQ(loaded->entry.mode, EntryMode::Long64);
    EXPECT_EQ(loaded->entry.entry, layout::KERNEL_LOAD_ADDR + 0x200);
    EXPECT_EQ(loaded->entry.boot_info, layout::ZERO_PAGE_ADDR);
    EXPECT_EQ(memory.load<uint8_t>(layout::KERNEL_LOAD_ADDR + 1).value(), 7);  // payload copied
}

TEST_F(KernelLoaderTest, BzImageZeroPageCarriesCmdlineE820AndLoaderType) {
    ASSERT_TRUE(load(test::make_bzimage()).ok());
    auto params = memory.load<boot_params>(layout::ZERO_PAGE_ADDR).value();
    EXPECT_EQ(params.hdr.type_of_loader, 0xff);
    EXPECT_EQ(params.hdr.header, 0x53726448u);
    EXPECT_EQ(params.hdr.cmd_line_ptr, layout::CMDLINE_ADDR);
    EXPECT_EQ(read_cmdline(params.hdr.cmd_line_ptr), "console=ttyS0 quiet");
    ASSERT_EQ(params.e820_entries, 3);
    EXPECT_EQ(params.e820_table[2].addr, 0x100000u);
    EXPECT_EQ(params.e820_table[2].size, MEM - 0x100000);
    EXPECT_EQ(params.e820_table[2].type, 1u);
}

TEST_F(KernelLoaderTest, InitrdGoesHighestBelowInitrdAddrMax) {
    std::vector<uint8_t> initrd(10000, 0x42);
    auto loaded = load(test::make_bzimage({.initrd_addr_max = 0x1ffffff}), initrd);
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ(loaded->initrd.addr, (0x2000000 - 10000) & ~0xfffull);
    auto params = memory.load<boot_params>(layout::ZERO_PAGE_ADDR).value();
    EXPECT_EQ(params.hdr.ramdisk_image, loaded->initrd.addr);
    EXPECT_EQ(params.hdr.ramdisk_size, 10000u);
    EXPECT_EQ(memory.load<uint8_t>(loaded->initrd.addr + 9999).value(), 0x42);
}

TEST_F(KernelLoaderTest, CmdlineLongerThanKernelAcceptsIsRejected) {
    cmdline = KernelCmdline::create(std::string(300, 'a')).value();
    auto loaded = load(test::make_bzimage({.cmdline_size = 255}));
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().message(), "kernel command line is 300 bytes; the kernel accepts at most 255");
}

TEST_F(KernelLoaderTest, KernelLargerThanGuestRamIsRejected) {
    auto loaded = load(test::make_bzimage({.init_size = 128 << 20}));
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("give the guest more --memory"), std::string::npos);
}

TEST_F(KernelLoaderTest, PvhElfEntersIn32BitModeWithStartInfo) {
    auto loaded = load(test::make_elf({.pvh_entry = 0x100010}), std::vector<uint8_t>(100, 1));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ(loaded->format, KernelFormat::Pvh);
    EXPECT_EQ(loaded->entry.mode, EntryMode::Pvh32);
    EXPECT_EQ(loaded->entry.entry, 0x100010u);
    auto info = memory.load<HvmStartInfo>(loaded->entry.boot_info).value();
    EXPECT_EQ(info.magic, HVM_START_MAGIC);
    EXPECT_EQ(read_cmdline(info.cmdline_paddr), "console=ttyS0 quiet");
    EXPECT_EQ(info.nr_modules, 1u);
}

TEST_F(KernelLoaderTest, VmlinuxZeroesBssAndUses64BitEntry) {
    ASSERT_TRUE(memory.fill(0x100000, 0xee, 0x2000).ok());
    auto loaded = load(test::make_elf({.entry = 0x100080}));
    ASSERT_TRUE(loaded.ok()) << loaded.error().message();
    EXPECT_EQ(loaded->format, KernelFormat::Vmlinux);
    EXPECT_EQ(loaded->entry.mode, EntryMode::Long64);
    EXPECT_EQ(loaded->entry.entry, 0x100080u);
    EXPECT_EQ(memory.load<uint8_t>(0x100000).value(), 0xc0);
    EXPECT_EQ(memory.load<uint8_t>(0x101fff).value(), 0);
}

TEST_F(KernelLoaderTest, ElfSegmentBelowOneMiBIsRejected) {
    auto loaded = load(test::make_elf({.paddr = 0x8000, .entry = 0x8000}));
    ASSERT_FALSE(loaded.ok());
    EXPECT_NE(loaded.error().message().find("overlaps the boot area below 0x100000"), std::string::npos);
}

TEST_F(KernelLoaderTest, ElfEntryOutsideSegmentsIsRejected) {
    EXPECT_FALSE(load(test::make_elf({.entry = 0x900000})).ok());
}

TEST_F(KernelLoaderTest, UnknownFormatIsRejected) {
    auto loaded = load(std::vector<uint8_t>(4096, 0x90));
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.error().message(), "kernel: not a kernel image (neither a bzImage nor an ELF file)");
}

}  // namespace
}  // namespace vmm::boot
