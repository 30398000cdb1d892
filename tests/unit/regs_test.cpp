#include "arch/x86_64/regs.h"

#include <gtest/gtest.h>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {
namespace {

TEST(Regs, GdtEntryEncodesLikeTheSdm) {
    EXPECT_EQ(gdt_entry(0xa09b, 0, 0xfffff), 0x00af9b000000ffffull);
    EXPECT_EQ(gdt_entry(0xc093, 0, 0xfffff), 0x00cf93000000ffffull);
    EXPECT_EQ(gdt_entry(0x808b, 0x12345678, 0x67), 0x12808b3456780067ull);
}

TEST(Regs, SegmentFromGdtDecodesFlags) {
    auto cs = segment_from_gdt(gdt_entry(0xa09b, 0, 0xfffff), 0x10);
    EXPECT_EQ(cs.selector, 0x10);
    EXPECT_EQ(cs.type, 0xb);
    EXPECT_EQ(cs.l, 1);
    EXPECT_EQ(cs.db, 0);
    EXPECT_EQ(cs.g, 1);
    EXPECT_EQ(cs.limit, 0xffffffffu);
    EXPECT_EQ(cs.present, 1);
    EXPECT_EQ(cs.s, 1);
}

TEST(Regs, LongModeSregsEnablePagingAndLongMode) {
    auto s = boot_sregs(kvm_sregs{}, CpuMode::Long64);
    EXPECT_EQ(s.cr3, layout::PML4_ADDR);
    EXPECT_TRUE(s.cr0 & (1u << 31));
    EXPECT_TRUE(s.cr0 & 1);
    EXPECT_TRUE(s.cr4 & (1u << 5));
    EXPECT_EQ(s.efer & 0x500, 0x500u);
    EXPECT_EQ(s.cs.selector, SELECTOR_CODE64);
    EXPECT_EQ(s.cs.l, 1);
    EXPECT_EQ(s.ds.selector, SELECTOR_DATA);
}

TEST(Regs, PvhSregsAreFlat32BitWithoutPaging) {
    auto s = boot_sregs(kvm_sregs{}, CpuMode::Protected32);
    EXPECT_FALSE(s.cr0 & (1u << 31));
    EXPECT_TRUE(s.cr0 & 1);
    EXPECT_EQ(s.efer, 0u);
    EXPECT_EQ(s.cs.db, 1);
    EXPECT_EQ(s.cs.l, 0);
    EXPECT_EQ(s.cs.base, 0u);
    EXPECT_EQ(s.cs.limit, 0xffffffffu);
}

TEST(Regs, BootInfoRegisterDependsOnMode) {
    auto lm = boot_regs(CpuMode::Long64, 0x100200, 0x7000);
    EXPECT_EQ(lm.rip, 0x100200u);
    EXPECT_EQ(lm.rsi, 0x7000u);
    EXPECT_EQ(lm.rflags, 2u);
    auto pvh = boot_regs(CpuMode::Protected32, 0x100000, 0x6000);
    EXPECT_EQ(pvh.rbx, 0x6000u);
    EXPECT_EQ(pvh.rsi, 0u);
}

TEST(Regs, PageTablesIdentityMapTheFirstGiB) {
    const MemoryRegionSpec spec[] = {{0, 0x100000}};
    auto memory = GuestMemory::create(spec).value();
    ASSERT_TRUE(write_boot_tables(memory, CpuMode::Long64).ok());
    EXPECT_EQ(memory.load<uint64_t>(layout::PML4_ADDR).value(), layout::PDPT_ADDR | 3);
    EXPECT_EQ(memory.load<uint64_t>(layout::PDPT_ADDR).value(), layout::PD_ADDR | 3);
    EXPECT_EQ(memory.load<uint64_t>(layout::PD_ADDR + 8 * 511).value(), (511ull << 21) | 0x83);
    EXPECT_EQ(memory.load<uint64_t>(layout::GDT_ADDR + 16).value(), 0x00af9b000000ffffull);
}

TEST(Regs, FpuStartsAtResetValues) {
    auto fpu = boot_fpu();
    EXPECT_EQ(fpu.fcw, 0x37f);
    EXPECT_EQ(fpu.mxcsr, 0x1f80u);
}

}  // namespace
}  // namespace vmm::arch::x86_64
