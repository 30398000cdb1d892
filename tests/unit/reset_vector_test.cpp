#include "arch/x86_64/reset_vector.h"

#include <gtest/gtest.h>

#include <vector>

#include "arch/x86_64/layout.h"

namespace vmm::arch::x86_64 {
namespace {

TEST(ResetVector, WritesTheAcpiResetValueToTheResetPort) {
    const MemoryRegionSpec spec[] = {{0, 0x100000}};
    auto memory = std::move(GuestMemory::create(spec).value());
    ASSERT_TRUE(write_reset_vector(memory).ok());
    std::vector<uint8_t> code(9);
    ASSERT_TRUE(memory.read(0xffff0, code).ok());
    // mov al, 1; mov dx, 0x602; out dx, al; hlt; jmp back to the hlt
    EXPECT_EQ(code, (std::vector<uint8_t>{0xb0, layout::ACPI_RESET_VALUE, 0xba, 0x02, 0x06, 0xee, 0xf4, 0xeb, 0xfd}));
    EXPECT_EQ(layout::ACPI_RESET_PORT, 0x602);
}

// The reset vector lies in the E820 hole below 1 MiB, above every ACPI table.
TEST(ResetVector, SitsAboveTheAcpiTables) { EXPECT_LE(layout::ACPI_END, layout::RESET_VECTOR); }

}  // namespace
}  // namespace vmm::arch::x86_64
