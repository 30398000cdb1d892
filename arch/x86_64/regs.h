// Initial register state of the boot vCPU for the two entry modes Ember supports:
// 64-bit long mode (Linux 64-bit boot protocol) and 32-bit protected mode (PVH).
#pragma once

#include <linux/kvm.h>

#include <cstdint>

#include "base/guest_memory.h"

namespace vmm::arch::x86_64 {

enum class CpuMode {
    Long64,       // paging on, identity map of the first GiB, RSI = boot_params
    Protected32,  // flat 32-bit protected mode, paging off, EBX = hvm_start_info (PVH)
};

// GDT selectors. 0x10/0x18 are what the Linux boot protocol calls __BOOT_CS/__BOOT_DS.
inline constexpr uint16_t SELECTOR_CODE32 = 0x08;
inline constexpr uint16_t SELECTOR_CODE64 = 0x10;
inline constexpr uint16_t SELECTOR_DATA = 0x18;
inline constexpr uint16_t SELECTOR_TSS = 0x20;

// Encodes one GDT descriptor (Intel SDM Vol. 3A §3.4.5).
uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit);
// The kvm_segment KVM wants for a descriptor.
kvm_segment segment_from_gdt(uint64_t entry, uint16_t selector);

// Writes the GDT, an empty IDT and (for Long64) the identity-mapping page tables.
Status write_boot_tables(GuestMemory& memory, CpuMode mode);

// Segment, control and EFER state for the mode; other fields of `base` are kept.
kvm_sregs boot_sregs(kvm_sregs base, CpuMode mode);

kvm_regs boot_regs(CpuMode mode, uint64_t entry, uint64_t boot_info_gpa);

// x87 control word and MXCSR at their reset values.
kvm_fpu boot_fpu();

}  // namespace vmm::arch::x86_64
