#include "devices/legacy/cmos.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

// 2026-11-23 10:59:40 UTC, a Monday.
constexpr std::time_t NOW = 1795431580;

uint8_t read_reg(Cmos& cmos, uint8_t index) {
    cmos.write(Cmos::INDEX, index);
    return cmos.read(Cmos::DATA);
}

TEST(Cmos, TimeIsBcdByDefault) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    EXPECT_EQ(read_reg(cmos, 0x00), 0x40);  // seconds
    EXPECT_EQ(read_reg(cmos, 0x02), 0x59);  // minutes
    EXPECT_EQ(read_reg(cmos, 0x04), 0x10);  // hours
    EXPECT_EQ(read_reg(cmos, 0x07), 0x23);  // day
    EXPECT_EQ(read_reg(cmos, 0x08), 0x11);  // month
    EXPECT_EQ(read_reg(cmos, 0x09), 0x26);  // year
    EXPECT_EQ(read_reg(cmos, 0x32), 0x20);  // century
}

TEST(Cmos, BinaryModeFromStatusB) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    cmos.write(Cmos::INDEX, 0x0b);
    cmos.write(Cmos::DATA, 0x06);
    EXPECT_EQ(read_reg(cmos, 0x00), 40);
    EXPECT_EQ(read_reg(cmos, 0x09), 26);
}

TEST(Cmos, NmiMaskBitIsIgnoredInIndex) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    EXPECT_EQ(read_reg(cmos, 0x80 | 0x02), 0x59);
}

TEST(Cmos, StatusDReportsValidTimeAndIsReadOnly) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    cmos.write(Cmos::INDEX, 0x0d);
    cmos.write(Cmos::DATA, 0x00);
    EXPECT_EQ(read_reg(cmos, 0x0d), 0x80);
}

TEST(Cmos, MemorySizeRegisters) {
    Cmos cmos([] { return NOW; }, 3ull << 30, 1ull << 30);
    const unsigned ext = read_reg(cmos, 0x34) | (read_reg(cmos, 0x35) << 8);
    EXPECT_EQ(ext, ((3ull << 30) - (16 << 20)) >> 16);
    const unsigned high = read_reg(cmos, 0x5b) | (read_reg(cmos, 0x5c) << 8) | (read_reg(cmos, 0x5d) << 16);
    EXPECT_EQ(high, (1ull << 30) >> 16);
}

TEST(Cmos, RamBytesHoldWrites) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    cmos.write(Cmos::INDEX, 0x40);
    cmos.write(Cmos::DATA, 0x77);
    EXPECT_EQ(read_reg(cmos, 0x40), 0x77);
}

TEST(Cmos, StateRoundTrips) {
    Cmos cmos([] { return NOW; }, 256 << 20, 0);
    cmos.write(Cmos::INDEX, 0x40);
    cmos.write(Cmos::DATA, 0x77);  // battery-backed RAM
    cmos.write(Cmos::INDEX, 0x41);
    Cmos other([] { return NOW; }, 256 << 20, 0);
    other.restore(cmos.save());
    EXPECT_EQ(other.save(), cmos.save());
    EXPECT_EQ(read_reg(other, 0x40), 0x77);
}

}  // namespace
}  // namespace vmm
