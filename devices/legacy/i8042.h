// i8042 keyboard controller with an AT keyboard behind it, as much as a guest needs to find
// both, to reset the machine (Linux `reboot=k`: command 0xfe on port 0x64) and to receive
// Ctrl+Alt+Del from the host (Linux's i8042 and atkbd drivers, scan code set 2, untranslated).
// A plain state machine: the reset action and interrupt line 1 are handed in.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "base/result.h"
#include "devices/device.h"

namespace vmm {

class I8042 {
public:
    // Register offsets from the device base (port 0x60).
    static constexpr uint8_t DATA = 0;
    static constexpr uint8_t COMMAND = 4;  // status on read
    // Bytes the keyboard holds for the guest, as a real one's buffer.
    static constexpr size_t KEYBOARD_BUFFER = 16;

    I8042(IrqLine& irq, std::function<void()> on_reset) : m_irq(irq), m_on_reset(std::move(on_reset)) {}

    uint8_t read(uint8_t reg);
    void write(uint8_t reg, uint8_t value);

    // Ctrl, Alt and Delete pressed, then released, from the keyboard; the interrupt rises
    // once the guest enables it. False, and nothing queued, when the keyboard's buffer lacks
    // room for the whole sequence (a guest that never reads it).
    bool press_ctrl_alt_del();

    struct State {
        std::optional<uint8_t> controller_output;
        std::vector<uint8_t> keyboard_output;
        uint8_t pending;  // the command written last whose parameter byte is awaited, or 0
        uint8_t ctr;
        bool operator==(const State&) const = default;
    };
    State save() const;
    // A keyboard buffer beyond its size is refused (the state may come from a file).
    Status restore(const State& state);

private:
    void controller_command(uint8_t command);
    void keyboard_command(uint8_t command);
    void keyboard_reply(std::initializer_list<uint8_t> bytes);
    void update_irq();

    IrqLine& m_irq;
    std::function<void()> m_on_reset;
    std::optional<uint8_t> m_controller_output;  // a controller reply: read before keyboard bytes
    std::deque<uint8_t> m_keyboard_output;
    uint8_t m_pending = 0;
    uint8_t m_ctr = 0x00;
    bool m_irq_asserted = false;
};

}  // namespace vmm
