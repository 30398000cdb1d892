// Local APIC set-up for booting: LINT0 as ExtINT (the PIC's output), LINT1 as NMI, the
// wiring the MP table describes and Linux expects of a PC.
#pragma once

#include <linux/kvm.h>

#include <cstdint>

namespace vmm::arch::x86_64 {

inline constexpr uint32_t APIC_LVT_LINT0 = 0x350;
inline constexpr uint32_t APIC_LVT_LINT1 = 0x360;
inline constexpr uint32_t APIC_MODE_NMI = 0x4;
inline constexpr uint32_t APIC_MODE_EXTINT = 0x7;

uint32_t lapic_register(const kvm_lapic_state& lapic, uint32_t offset);
void set_lapic_register(kvm_lapic_state& lapic, uint32_t offset, uint32_t value);

// Returns lapic with LINT0 = ExtINT and LINT1 = NMI delivery modes.
kvm_lapic_state with_lint_wiring(kvm_lapic_state lapic);

}  // namespace vmm::arch::x86_64
