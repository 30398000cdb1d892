#include "arch/x86_64/regs.h"

#include <array>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {

namespace {

constexpr uint64_t CR0_PE = 1ull << 0;
constexpr uint64_t CR0_ET = 1ull << 4;
constexpr uint64_t CR0_PG = 1ull << 31;
constexpr uint64_t CR4_PAE = 1ull << 5;
constexpr uint64_t EFER_LME = 1ull << 8;
constexpr uint64_t EFER_LMA = 1ull << 10;

constexpr uint64_t PTE_PRESENT_RW = 0x3;
constexpr uint64_t PDE_LARGE = 0x80;

// Access byte + flags nibble: present, ring 0, 4 KiB granularity.
constexpr uint16_t FLAGS_CODE32 = 0xc09b;
constexpr uint16_t FLAGS_CODE64 = 0xa09b;
constexpr uint16_t FLAGS_DATA = 0xc093;
constexpr uint16_t FLAGS_TSS = 0x808b;

std::array<uint64_t, 5> boot_gdt() {
    return {0,
            gdt_entry(FLAGS_CODE32, 0, 0xfffff),
            gdt_entry(FLAGS_CODE64, 0, 0xfffff),
            gdt_entry(FLAGS_DATA, 0, 0xfffff),
            gdt_entry(FLAGS_TSS, 0, 0xfffff)};
}

Status write_page_tables(GuestMemory& memory) {
    TRY(memory.store<uint64_t>(layout::PML4_ADDR, layout::PDPT_ADDR | PTE_PRESENT_RW));
    TRY(memory.store<uint64_t>(layout::PDPT_ADDR, layout::PD_ADDR | PTE_PRESENT_RW));
    std::array<uint64_t, 512> pd{};
    for (uint64_t i = 0; i < pd.size(); ++i)
        pd[i] = (i << 21) | PDE_LARGE | PTE_PRESENT_RW;
    return memory.store(layout::PD_ADDR, pd);
}

}  // namespace

uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit) {
    return ((uint64_t(base) & 0xff000000ull) << 32) | ((uint64_t(flags) & 0xf0ffull) << 40) |
           ((uint64_t(limit) & 0x000f0000ull) << 32) | ((uint64_t(base) & 0x00ffffffull) << 16) |
           (uint64_t(limit) & 0x0000ffffull);
}

kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector) {
    kvm_segment seg{};
    seg.base = ((entry >> 16) & 0xffffff) | (((entry >> 56) & 0xff) << 24);
    uint32_t limit = static_cast<uint32_t>((entry & 0xffff) | (((entry >> 48) & 0xf) << 16));
    seg.g = (entry >> 55) & 1;
    seg.limit = seg.g ? (limit << 12) | 0xfff : limit;
    seg.selector = selector;
    seg.type = (entry >> 40) & 0xf;
    seg.s = (entry >> 44) & 1;
    seg.dpl = (entry >> 45) & 3;
    seg.present = (entry >> 47) & 1;
    seg.avl = (entry >> 52) & 1;
    seg.l = (entry >> 53) & 1;
    seg.db = (entry >> 54) & 1;
    seg.unusable = seg.present ? 0 : 1;
    return seg;
}

Status write_boot_tables(GuestMemory& memory, CpuMode mode) {
    TRY(memory.store(layout::GDT_ADDR, boot_gdt()));
    TRY(memory.store<uint64_t>(layout::IDT_ADDR, 0));
    if (mode == CpuMode::Long64)
        TRY(write_page_tables(memory));
    return {};
}

kvm_sregs boot_sregs(kvm_sregs sregs, CpuMode mode) {
    const auto gdt = boot_gdt();
    sregs.gdt.base = layout::GDT_ADDR;
    sregs.gdt.limit = sizeof(gdt) - 1;
    sregs.idt.base = layout::IDT_ADDR;
    sregs.idt.limit = sizeof(uint64_t) - 1;

    const uint16_t code = mode == CpuMode::Long64 ? SELECTOR_CODE64 : SELECTOR_CODE32;
    sregs.cs = segment_from_gdt(gdt[code / 8], code);
    const kvm_segment data = segment_from_gdt(gdt[SELECTOR_DATA / 8], SELECTOR_DATA);
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.tr = segment_from_gdt(gdt[SELECTOR_TSS / 8], SELECTOR_TSS);

    sregs.cr0 = CR0_PE | CR0_ET;
    sregs.cr4 = 0;
    sregs.efer = 0;
    if (mode == CpuMode::Long64) {
        sregs.cr3 = layout::PML4_ADDR;
        sregs.cr4 |= CR4_PAE;
        sregs.cr0 |= CR0_PG;
        sregs.efer |= EFER_LME | EFER_LMA;
    }
    return sregs;
}

kvm_regs boot_regs(CpuMode mode, uint64_t entry, uint64_t boot_info_gpa) {
    kvm_regs regs{};
    regs.rflags = 0x2;  // reserved bit 1; interrupts off
    regs.rip = entry;
    regs.rsp = regs.rbp = layout::BOOT_STACK_TOP;
    if (mode == CpuMode::Long64)
        regs.rsi = boot_info_gpa;  // Linux boot protocol: boot_params
    else
        regs.rbx = boot_info_gpa;  // PVH: hvm_start_info
    return regs;
}

kvm_fpu boot_fpu() {
    kvm_fpu fpu{};
    fpu.fcw = 0x37f;
    fpu.mxcsr = 0x1f80;
    return fpu;
}

}  // namespace vmm::arch::x86_64
