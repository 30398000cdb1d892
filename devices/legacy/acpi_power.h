// The ACPI power device of a hardware-reduced machine (ACPI 6.5 §4.8.3.6-7): the FADT's
// sleep control, sleep status and reset registers, one byte each. A guest powers off by
// writing SLP_TYP = S5 with SLP_EN to sleep control, and resets by writing the reset value.
#pragma once

#include <cstdint>
#include <functional>

namespace vmm {

class AcpiPower {
public:
    // Register offsets from the device base.
    static constexpr uint8_t SLEEP_CONTROL = 0;
    static constexpr uint8_t SLEEP_STATUS = 1;
    static constexpr uint8_t RESET = 2;

    AcpiPower(uint8_t s5_sleep_type, uint8_t reset_value, std::function<void()> on_power_off,
              std::function<void()> on_reset)
        : m_s5_sleep_type(s5_sleep_type), m_reset_value(reset_value),
          m_on_power_off(std::move(on_power_off)), m_on_reset(std::move(on_reset)) {}

    uint8_t read(uint8_t reg);
    void write(uint8_t reg, uint8_t value);

private:
    uint8_t m_s5_sleep_type;
    uint8_t m_reset_value;
    std::function<void()> m_on_power_off;
    std::function<void()> m_on_reset;
};

}  // namespace vmm
