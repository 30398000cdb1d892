#include "devices/legacy/cmos.h"

namespace vmm {

namespace {

constexpr uint8_t INDEX_MASK = 0x7f;  // bit 7 of the index port is the NMI mask
constexpr uint8_t REG_SECONDS = 0x00;
constexpr uint8_t REG_MINUTES = 0x02;
constexpr uint8_t REG_HOURS = 0x04;
constexpr uint8_t REG_WEEKDAY = 0x06;
constexpr uint8_t REG_DAY = 0x07;
constexpr uint8_t REG_MONTH = 0x08;
constexpr uint8_t REG_YEAR = 0x09;
constexpr uint8_t REG_STATUS_A = 0x0a;
constexpr uint8_t REG_STATUS_B = 0x0b;
constexpr uint8_t REG_STATUS_C = 0x0c;
constexpr uint8_t REG_STATUS_D = 0x0d;
constexpr uint8_t REG_MEM_EXT_LOW = 0x34;   // RAM 16 MiB..4 GiB in 64 KiB units
constexpr uint8_t REG_MEM_EXT_HIGH = 0x35;
constexpr uint8_t REG_MEM_HIGH_0 = 0x5b;    // RAM above 4 GiB in 64 KiB units
constexpr uint8_t REG_CENTURY = 0x32;

constexpr uint8_t STATUS_A_DEFAULT = 0x26;  // 32.768 kHz time base, 1024 Hz rate, no update
constexpr uint8_t STATUS_B_24H = 0x02;
constexpr uint8_t STATUS_B_BINARY = 0x04;
constexpr uint8_t STATUS_D_VALID = 0x80;

constexpr uint64_t SIXTEEN_MIB = 16ull << 20;

}  // namespace

Cmos::Cmos(Clock clock, uint64_t mem_below_4g, uint64_t mem_above_4g) : m_clock(std::move(clock)) {
    m_ram[REG_STATUS_A] = STATUS_A_DEFAULT;
    m_ram[REG_STATUS_B] = STATUS_B_24H;
    m_ram[REG_STATUS_D] = STATUS_D_VALID;
    const uint64_t ext = mem_below_4g > SIXTEEN_MIB ? (mem_below_4g - SIXTEEN_MIB) >> 16 : 0;
    const uint64_t ext_clamped = ext > 0xffff ? 0xffff : ext;
    m_ram[REG_MEM_EXT_LOW] = static_cast<uint8_t>(ext_clamped);
    m_ram[REG_MEM_EXT_HIGH] = static_cast<uint8_t>(ext_clamped >> 8);
    const uint64_t high = mem_above_4g >> 16;
    for (int i = 0; i < 3; ++i)
        m_ram[REG_MEM_HIGH_0 + i] = static_cast<uint8_t>(high >> (8 * i));
}

uint8_t Cmos::read(uint8_t reg) {
    if (reg == DATA)
        return read_register(m_index);
    return 0xff;  // the index port is write-only
}

void Cmos::write(uint8_t reg, uint8_t value) {
    if (reg == INDEX) {
        m_index = value & INDEX_MASK;
        return;
    }
    // Status C and D are read-only; the clock registers are always the host's time.
    if (m_index != REG_STATUS_C && m_index != REG_STATUS_D)
        m_ram[m_index] = value;
}

uint8_t Cmos::encode(unsigned value) const {
    if (m_ram[REG_STATUS_B] & STATUS_B_BINARY)
        return static_cast<uint8_t>(value);
    return static_cast<uint8_t>(((value / 10) << 4) | (value % 10));
}

uint8_t Cmos::read_register(uint8_t index) const {
    const std::time_t now = m_clock();
    std::tm tm{};
    gmtime_r(&now, &tm);
    switch (index) {
    case REG_SECONDS: return encode(static_cast<unsigned>(tm.tm_sec));
    case REG_MINUTES: return encode(static_cast<unsigned>(tm.tm_min));
    case REG_HOURS: return encode(static_cast<unsigned>(tm.tm_hour));
    case REG_WEEKDAY: return encode(static_cast<unsigned>(tm.tm_wday + 1));
    case REG_DAY: return encode(static_cast<unsigned>(tm.tm_mday));
    case REG_MONTH: return encode(static_cast<unsigned>(tm.tm_mon + 1));
    case REG_YEAR: return encode(static_cast<unsigned>(tm.tm_year % 100));
    case REG_CENTURY: return encode(static_cast<unsigned>((tm.tm_year + 1900) / 100));
    case REG_STATUS_C: return 0;
    default: return m_ram[index];
    }
}

}  // namespace vmm
