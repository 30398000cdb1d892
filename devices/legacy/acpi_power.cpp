#include "devices/legacy/acpi_power.h"

namespace vmm {

namespace {

// ACPI 6.5 §4.8.3.7: sleep control register fields.
constexpr uint8_t SLP_TYP_SHIFT = 2;
constexpr uint8_t SLP_TYP_MASK = 0x7;
constexpr uint8_t SLP_EN = 0x20;

}  // namespace

// Nothing ever wakes: the sleep status register reads 0 (no WAK_STS).
uint8_t AcpiPower::read(uint8_t) { return 0; }

void AcpiPower::write(uint8_t reg, uint8_t value) {
    switch (reg) {
    case SLEEP_CONTROL:
        // Only S5 is announced (_S5_); any other sleep type is not a state this machine has.
        if ((value & SLP_EN) && ((value >> SLP_TYP_SHIFT) & SLP_TYP_MASK) == m_s5_sleep_type)
            m_on_power_off();
        break;
    case RESET:
        if (value == m_reset_value)
            m_on_reset();
        break;
    default:  // sleep status: write-1-to-clear bits that are never set
        break;
    }
}

}  // namespace vmm
