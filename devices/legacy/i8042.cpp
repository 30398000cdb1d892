#include "devices/legacy/i8042.h"

namespace vmm {

namespace {

constexpr uint8_t STATUS_OUTPUT_FULL = 0x01;
constexpr uint8_t STATUS_SYSTEM_FLAG = 0x04;
constexpr uint8_t STATUS_NOT_INHIBITED = 0x10;  // keyboard not locked (Linux warns "Keylock active")
constexpr uint8_t CMD_READ_CTR = 0x20;
constexpr uint8_t CMD_WRITE_CTR = 0x60;
constexpr uint8_t CMD_SELF_TEST = 0xaa;
constexpr uint8_t CMD_PULSE_RESET = 0xfe;
constexpr uint8_t SELF_TEST_OK = 0x55;

}  // namespace

uint8_t I8042::read(uint8_t reg) {
    if (reg == COMMAND)
        return STATUS_SYSTEM_FLAG | STATUS_NOT_INHIBITED | (m_output ? STATUS_OUTPUT_FULL : 0);
    if (reg == DATA && m_output) {
        const uint8_t value = *m_output;
        m_output.reset();
        return value;
    }
    return 0;
}

void I8042::write(uint8_t reg, uint8_t value) {
    if (reg == DATA) {
        if (m_expect_ctr)
            m_ctr = value;
        m_expect_ctr = false;
        return;
    }
    if (reg != COMMAND)
        return;
    switch (value) {
    case CMD_READ_CTR:
        m_output = m_ctr;
        break;
    case CMD_WRITE_CTR:
        m_expect_ctr = true;
        break;
    case CMD_SELF_TEST:
        m_output = SELF_TEST_OK;
        break;
    case CMD_PULSE_RESET:
        m_on_reset();
        break;
    default:
        break;
    }
}

}  // namespace vmm
