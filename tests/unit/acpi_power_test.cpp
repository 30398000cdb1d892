#include "devices/legacy/acpi_power.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

struct AcpiPowerTest : ::testing::Test {
    int power_offs = 0, resets = 0;
    AcpiPower power{5, 1, [this] { ++power_offs; }, [this] { ++resets; }};
};

TEST_F(AcpiPowerTest, SleepTypeS5WithSleepEnablePowersOff) {
    power.write(AcpiPower::SLEEP_CONTROL, (5 << 2) | 0x20);  // what Linux's acpi_hw_extended_sleep writes
    EXPECT_EQ(power_offs, 1);
    EXPECT_EQ(resets, 0);
}

TEST_F(AcpiPowerTest, SleepTypeWithoutSleepEnableDoesNothing) {
    power.write(AcpiPower::SLEEP_CONTROL, 5 << 2);
    EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiPowerTest, OtherSleepTypesAreIgnored) {
    power.write(AcpiPower::SLEEP_CONTROL, (3 << 2) | 0x20);  // S3: not announced
    EXPECT_EQ(power_offs, 0);
}

TEST_F(AcpiPowerTest, ResetValueResetsAndOtherValuesDoNot) {
    power.write(AcpiPower::RESET, 2);
    EXPECT_EQ(resets, 0);
    power.write(AcpiPower::RESET, 1);
    EXPECT_EQ(resets, 1);
}

TEST_F(AcpiPowerTest, SleepStatusNeverReportsAWake) {
    power.write(AcpiPower::SLEEP_STATUS, 0x80);  // Linux clears WAK_STS before sleeping
    EXPECT_EQ(power.read(AcpiPower::SLEEP_STATUS), 0);
    EXPECT_EQ(power_offs + resets, 0);
}

}  // namespace
}  // namespace vmm
