#include "devices/legacy/i8042.h"

#include <fmt/format.h>

#include <iterator>
#include <utility>

namespace vmm {

namespace {

constexpr uint8_t STATUS_OUTPUT_FULL = 0x01;
constexpr uint8_t STATUS_SYSTEM_FLAG = 0x04;
constexpr uint8_t STATUS_NOT_INHIBITED = 0x10;  // keyboard not locked (Linux warns "Keylock active")

constexpr uint8_t CTR_KBD_INT = 0x01;
constexpr uint8_t CTR_KBD_DISABLED = 0x10;

// Controller commands (port 0x64).
constexpr uint8_t CMD_READ_CTR = 0x20;
constexpr uint8_t CMD_WRITE_CTR = 0x60;
constexpr uint8_t CMD_SELF_TEST = 0xaa;
constexpr uint8_t CMD_KBD_TEST = 0xab;
constexpr uint8_t CMD_KBD_DISABLE = 0xad;
constexpr uint8_t CMD_KBD_ENABLE = 0xae;
constexpr uint8_t CMD_WRITE_OUTPUT_PORT = 0xd1;
constexpr uint8_t CMD_PULSE_RESET = 0xfe;
constexpr uint8_t SELF_TEST_OK = 0x55;
constexpr uint8_t KBD_TEST_OK = 0x00;

// Keyboard commands (port 0x60) and replies.
constexpr uint8_t KBD_SET_LEDS = 0xed;
constexpr uint8_t KBD_ECHO = 0xee;
constexpr uint8_t KBD_SCAN_SET = 0xf0;
constexpr uint8_t KBD_GET_ID = 0xf2;
constexpr uint8_t KBD_SET_REPEAT = 0xf3;
constexpr uint8_t KBD_RESET = 0xff;
constexpr uint8_t KBD_ACK = 0xfa;
constexpr uint8_t KBD_SELF_TEST_OK = 0xaa;
constexpr uint8_t KBD_ID[] = {0xab, 0x83};  // an MF2 keyboard
constexpr uint8_t KBD_CURRENT_SET = 2;

// Scan code set 2: Ctrl, Alt and Delete made, then broken.
constexpr uint8_t CTRL_ALT_DEL[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0, 0x71, 0xf0, 0x11, 0xf0, 0x14};

bool takes_parameter(uint8_t command) {
    return command == KBD_SET_LEDS || command == KBD_SCAN_SET || command == KBD_SET_REPEAT;
}

}  // namespace

uint8_t I8042::read(uint8_t reg) {
    if (reg == COMMAND) {
        const bool full = m_controller_output || !m_keyboard_output.empty();
        return STATUS_SYSTEM_FLAG | STATUS_NOT_INHIBITED | (full ? STATUS_OUTPUT_FULL : 0);
    }
    if (reg != DATA)
        return 0;
    if (m_controller_output) {
        const uint8_t value = *m_controller_output;
        m_controller_output.reset();
        update_irq();
        return value;
    }
    if (m_keyboard_output.empty())
        return 0;
    const uint8_t value = m_keyboard_output.front();
    m_keyboard_output.pop_front();
    // The line drops with each byte taken and rises for the next: one edge per byte.
    if (m_irq_asserted) {
        m_irq_asserted = false;
        m_irq.set_level(false);
    }
    update_irq();
    return value;
}

void I8042::write(uint8_t reg, uint8_t value) {
    if (reg == COMMAND) {
        m_pending = 0;
        controller_command(value);
    } else if (reg == DATA) {
        // A byte after 0xd1 sets the output port (the A20 gate and the reset line): A20 is
        // always on here and reset comes through 0xfe, so it is taken and dropped.
        const uint8_t pending = std::exchange(m_pending, 0);
        if (pending == CMD_WRITE_CTR)
            m_ctr = value;
        else if (pending == KBD_SCAN_SET && value == 0)  // "which set?"
            keyboard_reply({KBD_ACK, KBD_CURRENT_SET});
        else if (takes_parameter(pending))
            keyboard_reply({KBD_ACK});
        else if (pending != CMD_WRITE_OUTPUT_PORT)
            keyboard_command(value);
    }
    update_irq();
}

void I8042::controller_command(uint8_t command) {
    switch (command) {
    case CMD_READ_CTR:
        m_controller_output = m_ctr;
        break;
    case CMD_WRITE_CTR:
    case CMD_WRITE_OUTPUT_PORT:
        m_pending = command;
        break;
    case CMD_SELF_TEST:
        m_controller_output = SELF_TEST_OK;
        break;
    case CMD_KBD_TEST:
        m_controller_output = KBD_TEST_OK;
        break;
    case CMD_KBD_DISABLE:
        m_ctr |= CTR_KBD_DISABLED;
        break;
    case CMD_KBD_ENABLE:
        m_ctr &= static_cast<uint8_t>(~CTR_KBD_DISABLED);
        break;
    case CMD_PULSE_RESET:
        m_on_reset();
        break;
    default:
        break;
    }
}

void I8042::keyboard_command(uint8_t command) {
    switch (command) {
    case KBD_ECHO:
        keyboard_reply({KBD_ECHO});
        break;
    case KBD_GET_ID:
        keyboard_reply({KBD_ACK, KBD_ID[0], KBD_ID[1]});
        break;
    case KBD_RESET:
        keyboard_reply({KBD_ACK, KBD_SELF_TEST_OK});
        break;
    default:
        if (takes_parameter(command))
            m_pending = command;
        keyboard_reply({KBD_ACK});
        break;
    }
}

// A command makes the keyboard drop what it had not sent yet, then answer.
void I8042::keyboard_reply(std::initializer_list<uint8_t> bytes) {
    m_keyboard_output.assign(bytes);
}

bool I8042::press_ctrl_alt_del() {
    if (KEYBOARD_BUFFER - m_keyboard_output.size() < std::size(CTRL_ALT_DEL))
        return false;
    m_keyboard_output.insert(m_keyboard_output.end(), std::begin(CTRL_ALT_DEL), std::end(CTRL_ALT_DEL));
    update_irq();
    return true;
}

// Interrupt 1 is raised while a keyboard byte waits and the guest enabled it; a controller
// reply, which the guest polls for, holds it back.
void I8042::update_irq() {
    const bool pending = (m_ctr & CTR_KBD_INT) && !m_controller_output && !m_keyboard_output.empty();
    if (pending != m_irq_asserted) {
        m_irq_asserted = pending;
        m_irq.set_level(pending);
    }
}

I8042::State I8042::save() const {
    return {m_controller_output, std::vector<uint8_t>(m_keyboard_output.begin(), m_keyboard_output.end()), m_pending,
            m_ctr};
}

Status I8042::restore(const State& state) {
    if (state.keyboard_output.size() > KEYBOARD_BUFFER)
        return Error(fmt::format("i8042 state: {} bytes in a {}-byte keyboard buffer", state.keyboard_output.size(),
                                 KEYBOARD_BUFFER));
    m_controller_output = state.controller_output;
    m_keyboard_output.assign(state.keyboard_output.begin(), state.keyboard_output.end());
    m_pending = state.pending;
    m_ctr = state.ctr;
    update_irq();
    return {};
}

}  // namespace vmm
