#include "devices/pci/pci_config.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmm::pci {
namespace {

struct PciConfigTest : ::testing::Test {
    PciConfig config{PciId{0x1af4, 0x1041, 1, 0x020000, 0x1af4, 0x1041}, 1};

    uint32_t rd32(uint64_t offset) {
        uint8_t b[4];
        config.read(offset, b);
        return b[0] | b[1] << 8 | b[2] << 16 | uint32_t{b[3]} << 24;
    }
    uint16_t rd16(uint64_t offset) {
        uint8_t b[2];
        config.read(offset, b);
        return static_cast<uint16_t>(b[0] | b[1] << 8);
    }
    void wr32(uint64_t offset, uint32_t v) {
        const uint8_t b[4] = {uint8_t(v), uint8_t(v >> 8), uint8_t(v >> 16), uint8_t(v >> 24)};
        config.write(offset, b);
    }
    void wr16(uint64_t offset, uint16_t v) {
        const uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
        config.write(offset, b);
    }
};

TEST_F(PciConfigTest, HeaderShowsIdsClassAndInterruptPin) {
    EXPECT_EQ(rd32(reg::VENDOR_ID), 0x10411af4u);
    EXPECT_EQ(rd32(reg::REVISION), 0x02000001u);  // class 02/00/00, revision 1
    EXPECT_EQ(rd32(reg::SUBSYSTEM_VENDOR_ID), 0x10411af4u);
    EXPECT_EQ(rd16(reg::INTERRUPT_LINE) >> 8, 1);  // INTA#
    EXPECT_EQ(rd32(0x0c) >> 16 & 0xff, 0u);        // header type 0, single function
}

TEST_F(PciConfigTest, ReadOnlyRegistersIgnoreWrites) {
    wr32(reg::VENDOR_ID, 0x12345678);
    wr32(reg::REVISION, 0xffffffff);
    wr16(reg::INTERRUPT_LINE, 0xff0b);
    EXPECT_EQ(rd32(reg::VENDOR_ID), 0x10411af4u);
    EXPECT_EQ(rd32(reg::REVISION), 0x02000001u);
    EXPECT_EQ(rd16(reg::INTERRUPT_LINE), 0x010b);  // the line is software's scratch, the pin is not
}

TEST_F(PciConfigTest, SixtyFourBitBarSizesThroughAllOnes) {
    config.add_memory_bar(0, 0x8000, true);
    EXPECT_EQ(rd32(reg::BAR0), 0x4u);  // memory, 64-bit, not prefetchable
    wr32(reg::BAR0, 0xffffffff);
    wr32(reg::BAR0 + 4, 0xffffffff);
    EXPECT_EQ(rd32(reg::BAR0), 0xffff8004u);
    EXPECT_EQ(rd32(reg::BAR0 + 4), 0xffffffffu);
    // An unused BAR reads as zero whatever is written.
    wr32(reg::BAR0 + 8, 0xffffffff);
    EXPECT_EQ(rd32(reg::BAR0 + 8), 0u);
}

TEST_F(PciConfigTest, BarDecodesOnlyWithMemorySpaceEnabled) {
    config.add_memory_bar(0, 0x8000, true);
    wr32(reg::BAR0, 0xc0001234);  // the low bits below the size are not address bits
    wr32(reg::BAR0 + 4, 0x1);
    EXPECT_EQ(config.bar_address(0), std::nullopt);
    wr16(reg::COMMAND, command::MEMORY);
    EXPECT_EQ(config.bar_address(0), 0x1c0000000ull);
    EXPECT_EQ(config.bar_size(0), 0x8000u);
}

TEST_F(PciConfigTest, CommandKeepsOnlyImplementedBits) {
    wr16(reg::COMMAND, 0xffff);
    EXPECT_EQ(rd16(reg::COMMAND), command::MEMORY | command::BUS_MASTER | command::INTX_DISABLE | 0x140);
}

TEST_F(PciConfigTest, StatusBitsTheFunctionOwnsIgnoreWrites) {
    config.set_interrupt_status(true);
    wr16(reg::STATUS, 0xffff);
    EXPECT_EQ(rd16(reg::STATUS), status::INTERRUPT);
    config.set_interrupt_status(false);
    EXPECT_EQ(rd16(reg::STATUS), 0);
}

TEST_F(PciConfigTest, CapabilitiesFormAWalkableListWithTheirWriteMasks) {
    const std::vector<uint8_t> a{1, 2, 3}, a_mask{0, 0xff, 0};
    const std::vector<uint8_t> b{9, 9}, b_mask{0, 0};
    const uint8_t first = config.add_capability(0x11, a, a_mask);
    const uint8_t second = config.add_capability(0x09, b, b_mask);
    EXPECT_TRUE(rd16(reg::STATUS) & status::CAPABILITIES);
    std::vector<std::pair<uint8_t, uint8_t>> walked;
    for (uint8_t at = static_cast<uint8_t>(rd16(reg::CAPABILITIES)); at != 0; at = static_cast<uint8_t>(rd16(at) >> 8)) {
        walked.push_back({at, static_cast<uint8_t>(rd16(at))});
        ASSERT_LT(walked.size(), 10u);
    }
    ASSERT_EQ(walked.size(), 2u);
    EXPECT_EQ(walked[0], std::make_pair(first, uint8_t{0x11}));
    EXPECT_EQ(walked[1], std::make_pair(second, uint8_t{0x09}));
    EXPECT_EQ(second % 4, 0);
    wr32(first, 0xffffffff);  // id and next are read-only; one body byte is writable
    EXPECT_EQ(rd32(first), uint32_t{0x11} | uint32_t{second} << 8 | 1u << 16 | 0xffu << 24);
}

TEST_F(PciConfigTest, ExtendedSpaceIsEmpty) {
    wr32(0x100, 0xffffffff);
    EXPECT_EQ(rd32(0x100), 0u);
    EXPECT_EQ(rd32(CONFIG_SIZE - 4), 0u);
}

}  // namespace
}  // namespace vmm::pci
