// i8042 keyboard controller, only as much as a guest needs to find it and to reset the
// machine through it (Linux `reboot=k`: command 0xfe on port 0x64).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

namespace vmm {

class I8042 {
public:
    // Register offsets from the device base (port 0x60).
    static constexpr uint8_t DATA = 0;
    static constexpr uint8_t COMMAND = 4;  // status on read

    explicit I8042(std::function<void()> on_reset) : m_on_reset(std::move(on_reset)) {}

    uint8_t read(uint8_t reg);
    void write(uint8_t reg, uint8_t value);

    struct State {
        std::optional<uint8_t> output;
        bool expect_ctr;
        uint8_t ctr;
        bool operator==(const State&) const = default;
    };
    State save() const { return {m_output, m_expect_ctr, m_ctr}; }
    void restore(const State& state) {
        m_output = state.output;
        m_expect_ctr = state.expect_ctr;
        m_ctr = state.ctr;
    }

private:
    std::function<void()> m_on_reset;
    std::optional<uint8_t> m_output;   // byte waiting for the guest at the data port
    bool m_expect_ctr = false;         // next data write is the controller configuration byte
    uint8_t m_ctr = 0x00;
};

}  // namespace vmm
