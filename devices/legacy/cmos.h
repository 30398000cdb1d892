// MC146818 CMOS RTC at ports 0x70 (index) / 0x71 (data): wall-clock time from the host in
// BCD or binary per status register B, and 128 bytes of battery-backed RAM.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <functional>

namespace vmm {

class Cmos {
public:
    static constexpr uint8_t INDEX = 0;
    static constexpr uint8_t DATA = 1;

    using Clock = std::function<std::time_t()>;

    // mem_below_4g / mem_above_4g: RAM sizes reported in the BIOS memory registers.
    Cmos(Clock clock, uint64_t mem_below_4g, uint64_t mem_above_4g);

    uint8_t read(uint8_t reg);
    void write(uint8_t reg, uint8_t value);

    // The index register and the RAM (the clock is the host's).
    struct State {
        uint8_t index;
        std::array<uint8_t, 128> ram;
        bool operator==(const State&) const = default;
    };
    State save() const { return {m_index, m_ram}; }
    void restore(const State& state) {
        m_index = state.index & 0x7f;
        m_ram = state.ram;
    }

private:
    uint8_t read_register(uint8_t index) const;
    uint8_t encode(unsigned value) const;

    Clock m_clock;
    uint8_t m_index = 0;
    std::array<uint8_t, 128> m_ram{};
};

}  // namespace vmm
