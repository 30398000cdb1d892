#include "devices/pci/msix.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmm::pci {
namespace {

struct MsiRecordingSink : MsiSink {
    void deliver(uint16_t vector, const MsiMessage& message) override { delivered.push_back({vector, message}); }
    std::vector<std::pair<uint16_t, MsiMessage>> delivered;
};

struct MsixTest : ::testing::Test {
    MsiRecordingSink sink;
    Msix msix{3, sink};

    void wr32(uint64_t offset, uint32_t v) { msix.write_table(offset, std::span(reinterpret_cast<const uint8_t*>(&v), 4)); }
    uint32_t rd32(uint64_t offset) {
        uint32_t v = 0;
        msix.read_table(offset, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
    uint32_t pba() {
        uint64_t v = 0;
        msix.read_pba(0, std::span(reinterpret_cast<uint8_t*>(&v), 8));
        return static_cast<uint32_t>(v);
    }
    void program(uint16_t vector, uint32_t data, bool masked) {
        wr32(vector * 16, 0xfee00000);
        wr32(vector * 16 + 4, 0);
        wr32(vector * 16 + 8, data);
        wr32(vector * 16 + 12, masked ? 1 : 0);
    }
};

TEST_F(MsixTest, PowersOnDisabledWithEveryVectorMasked) {
    EXPECT_EQ(msix.table_size_field(), 2);
    EXPECT_EQ(msix.pba_bytes(), 8u);
    for (uint16_t v = 0; v < 3; ++v)
        EXPECT_EQ(rd32(v * 16 + 12), 1u);
    msix.signal(0);
    EXPECT_TRUE(sink.delivered.empty());
    EXPECT_FALSE(msix.pending(0));  // disabled: not even pending
}

TEST_F(MsixTest, UnmaskedVectorDeliversItsMessage) {
    msix.set_control(Msix::CONTROL_ENABLE);
    program(1, 0x4041, false);
    msix.signal(1);
    ASSERT_EQ(sink.delivered.size(), 1u);
    EXPECT_EQ(sink.delivered[0].first, 1);
    EXPECT_EQ(sink.delivered[0].second, (MsiMessage{0xfee00000, 0x4041}));
}

TEST_F(MsixTest, MaskedVectorPendsAndDeliversOnUnmask) {
    msix.set_control(Msix::CONTROL_ENABLE);
    program(2, 0x30, true);
    msix.signal(2);
    EXPECT_TRUE(sink.delivered.empty());
    EXPECT_EQ(pba(), 1u << 2);
    wr32(2 * 16 + 12, 0);
    ASSERT_EQ(sink.delivered.size(), 1u);
    EXPECT_EQ(sink.delivered[0].second.data, 0x30u);
    EXPECT_EQ(pba(), 0u);
}

TEST_F(MsixTest, FunctionMaskHoldsEveryVector) {
    msix.set_control(Msix::CONTROL_ENABLE | Msix::CONTROL_FUNCTION_MASK);
    program(0, 0x21, false);
    msix.signal(0);
    EXPECT_TRUE(sink.delivered.empty());
    EXPECT_TRUE(msix.pending(0));
    msix.set_control(Msix::CONTROL_ENABLE);
    EXPECT_EQ(sink.delivered.size(), 1u);
    EXPECT_FALSE(msix.pending(0));
}

TEST_F(MsixTest, QwordAccessWritesBothHalves) {
    const uint64_t address = 0x00000001fee01000ull;
    msix.write_table(16, std::span(reinterpret_cast<const uint8_t*>(&address), 8));
    EXPECT_EQ(rd32(16), 0xfee01000u);
    EXPECT_EQ(rd32(20), 1u);
}

TEST_F(MsixTest, UnalignedOrOddAccessesAreIgnored) {
    const uint16_t two = 0xffff;
    msix.write_table(12, std::span(reinterpret_cast<const uint8_t*>(&two), 2));
    EXPECT_EQ(rd32(12), 1u);  // still masked
    wr32(2, 0xffffffff);
    EXPECT_EQ(rd32(0), 0u);
    uint8_t byte = 0xaa;
    msix.read_table(0, std::span(&byte, 1));
    EXPECT_EQ(byte, 0xaa);  // untouched
    wr32(3 * 16, 0x1234);   // past the table
    EXPECT_EQ(rd32(3 * 16), 0u);
}

TEST_F(MsixTest, VectorBeyondTableIsDropped) {
    msix.set_control(Msix::CONTROL_ENABLE);
    msix.signal(3);
    msix.signal(0xffff);
    EXPECT_TRUE(sink.delivered.empty());
}

TEST_F(MsixTest, ResetMasksAndForgetsPending) {
    msix.set_control(Msix::CONTROL_ENABLE);
    program(0, 0x22, true);
    msix.signal(0);
    msix.reset();
    EXPECT_FALSE(msix.enabled());
    EXPECT_FALSE(msix.pending(0));
    EXPECT_EQ(rd32(12), 1u);
}

}  // namespace
}  // namespace vmm::pci
