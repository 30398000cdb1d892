#include "arch/x86_64/interrupts.h"

#include <gtest/gtest.h>

namespace vmm::arch::x86_64 {
namespace {

TEST(Interrupts, LintWiringSetsDeliveryModesAndKeepsOtherBits) {
    kvm_lapic_state lapic{};
    set_lapic_register(lapic, APIC_LVT_LINT0, 0x10700);  // masked, some mode
    set_lapic_register(lapic, APIC_LVT_LINT1, 0x00000);
    auto wired = with_lint_wiring(lapic);
    EXPECT_EQ(lapic_register(wired, APIC_LVT_LINT0), 0x10000u | (APIC_MODE_EXTINT << 8));
    EXPECT_EQ(lapic_register(wired, APIC_LVT_LINT1), APIC_MODE_NMI << 8);
}

}  // namespace
}  // namespace vmm::arch::x86_64
