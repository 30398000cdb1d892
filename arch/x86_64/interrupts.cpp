#include "arch/x86_64/interrupts.h"

#include <cstring>

namespace vmm::arch::x86_64 {

namespace {

constexpr uint32_t DELIVERY_MODE_MASK = 0x700;

uint32_t with_delivery_mode(uint32_t lvt, uint32_t mode) {
    return (lvt & ~DELIVERY_MODE_MASK) | (mode << 8);
}

}  // namespace

uint32_t lapic_register(const kvm_lapic_state& lapic, uint32_t offset) {
    uint32_t value;
    std::memcpy(&value, lapic.regs + offset, sizeof value);
    return value;
}

void set_lapic_register(kvm_lapic_state& lapic, uint32_t offset, uint32_t value) {
    std::memcpy(lapic.regs + offset, &value, sizeof value);
}

kvm_lapic_state with_lint_wiring(kvm_lapic_state lapic) {
    set_lapic_register(lapic, APIC_LVT_LINT0,
                       with_delivery_mode(lapic_register(lapic, APIC_LVT_LINT0), APIC_MODE_EXTINT));
    set_lapic_register(lapic, APIC_LVT_LINT1,
                       with_delivery_mode(lapic_register(lapic, APIC_LVT_LINT1), APIC_MODE_NMI));
    return lapic;
}

}  // namespace vmm::arch::x86_64
