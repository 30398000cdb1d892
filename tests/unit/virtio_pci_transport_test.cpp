#include "devices/virtio/pci_transport.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "devices/virtio/virtio.h"
#include "tests/support/fake_virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct FakeLine : IrqLine {
    void set_level(bool asserted) override {
        level = asserted;
        ++changes;
    }
    bool level = false;
    int changes = 0;
};

struct RecordingSink : pci::MsiSink {
    void deliver(uint16_t vector, const pci::MsiMessage& message) override { delivered.push_back({vector, message}); }
    std::vector<std::pair<uint16_t, pci::MsiMessage>> delivered;
};

struct RecordingBars : pci::BarListener {
    void bar_moved(unsigned bar, std::optional<uint64_t> from, std::optional<uint64_t> to) override {
        moves.push_back({bar, from, to});
    }
    struct Move {
        unsigned bar;
        std::optional<uint64_t> from, to;
    };
    std::vector<Move> moves;
};

constexpr uint64_t BAR = 0xc0000000;

struct PciTransportTest : ::testing::Test, test::PciCommonCfg {
    FakeDriverQueue driver;
    FakeLine intx;
    RecordingSink msi;
    RecordingBars bars;
    test::FakeVirtioDevice* device = new test::FakeVirtioDevice(42, 1ull << 3, 2, 8);
    PciTransport transport{std::unique_ptr<VirtioDevice>(device), driver.memory(), {intx, msi, bars}};
    test::PciDriver pci{transport, BAR};

    PciTransportTest() { transport.assign_bar(BAR); }

    template <typename T>
    T cfg(uint64_t offset) { return pci.cfg<T>(offset); }
    template <typename T>
    void set_cfg(uint64_t offset, T v) { pci.set_cfg<T>(offset, v); }
    template <typename T>
    T bar(uint64_t offset) {
        bool decoded = false;
        const T v = pci.rd<T>(offset, &decoded);
        EXPECT_TRUE(decoded) << "BAR 0 + " << offset;
        return v;
    }
    template <typename T>
    void set_bar(uint64_t offset, T v) { EXPECT_TRUE(pci.wr<T>(offset, v)) << "BAR 0 + " << offset; }
    std::map<uint16_t, uint8_t> capabilities() { return pci.capabilities(); }
    void enable_msix() { pci.enable_msix(3); }
    void bring_up(uint16_t queue_vector) { pci.bring_up(driver.layout(), queue_vector); }
};

TEST_F(PciTransportTest, IdentifiesAsModernVirtioPci) {
    EXPECT_EQ(cfg<uint16_t>(pci::reg::VENDOR_ID), 0x1af4);
    EXPECT_EQ(cfg<uint16_t>(pci::reg::DEVICE_ID), 0x1040 + 42);
    EXPECT_EQ(cfg<uint8_t>(pci::reg::REVISION), 1);
    EXPECT_EQ(cfg<uint16_t>(pci::reg::SUBSYSTEM_ID), 0x1040 + 42);
    EXPECT_EQ(cfg<uint8_t>(pci::reg::INTERRUPT_PIN), 1);
}

TEST_F(PciTransportTest, CapabilitiesLocateEveryStructureInBarZero) {
    const auto caps = capabilities();
    for (uint8_t type = 1; type <= 5; ++type)
        ASSERT_TRUE(caps.count(0x0900 | type)) << "cfg_type " << int(type);
    ASSERT_TRUE(caps.count(pci::capability::MSIX));
    auto where = [&](uint8_t type) { return std::pair(cfg<uint32_t>(caps.at(0x0900 | type) + 8), cfg<uint32_t>(caps.at(0x0900 | type) + 12)); };
    EXPECT_EQ(where(1), std::pair(uint32_t(PciTransport::COMMON_OFFSET), uint32_t(PciTransport::REGION_SIZE)));
    EXPECT_EQ(where(2).first, PciTransport::NOTIFY_OFFSET);
    EXPECT_EQ(where(2).second, 2 * PciTransport::NOTIFY_OFF_MULTIPLIER);
    EXPECT_EQ(cfg<uint32_t>(caps.at(0x0902) + 16), PciTransport::NOTIFY_OFF_MULTIPLIER);
    EXPECT_EQ(where(3), std::pair(uint32_t(PciTransport::ISR_OFFSET), 1u));
    EXPECT_EQ(where(4), std::pair(uint32_t(PciTransport::DEVICE_OFFSET), 8u));
    const uint8_t msix = caps.at(pci::capability::MSIX);
    EXPECT_EQ(cfg<uint16_t>(msix + 2) & 0x7ff, 2);  // three vectors: two queues and configuration
    EXPECT_EQ(cfg<uint32_t>(msix + 4), PciTransport::MSIX_TABLE_OFFSET);  // BIR 0
    EXPECT_EQ(cfg<uint32_t>(msix + 8), PciTransport::MSIX_PBA_OFFSET);
}

TEST_F(PciTransportTest, BarSizesAsThirtyTwoKibSixtyFourBit) {
    set_cfg<uint32_t>(pci::reg::BAR0, 0xffffffff);
    set_cfg<uint32_t>(pci::reg::BAR0 + 4, 0xffffffff);
    EXPECT_EQ(cfg<uint32_t>(pci::reg::BAR0), 0xffff8004u);
    EXPECT_EQ(cfg<uint32_t>(pci::reg::BAR0 + 4), 0xffffffffu);
}

TEST_F(PciTransportTest, ListenerFollowsBarMovesAndDecoding) {
    ASSERT_EQ(bars.moves.size(), 1u);
    EXPECT_EQ(bars.moves[0].to, BAR);
    set_cfg<uint16_t>(pci::reg::COMMAND, 0);  // decoding off
    ASSERT_EQ(bars.moves.size(), 2u);
    EXPECT_EQ(bars.moves[1].from, BAR);
    EXPECT_EQ(bars.moves[1].to, std::nullopt);
    uint8_t byte = 0;
    EXPECT_FALSE(transport.mmio_read(BAR, std::span(&byte, 1)));
    set_cfg<uint32_t>(pci::reg::BAR0, 0xc0010000);
    set_cfg<uint16_t>(pci::reg::COMMAND, pci::command::MEMORY);
    ASSERT_EQ(bars.moves.size(), 3u);
    EXPECT_EQ(bars.moves[2].to, 0xc0010000u);
}

TEST_F(PciTransportTest, CommonConfigShowsQueuesAtMaximumSizeAfterReset) {
    EXPECT_EQ(bar<uint16_t>(NUM_QUEUES), 2);
    set_bar<uint16_t>(Q_SELECT, 1);
    EXPECT_EQ(bar<uint16_t>(Q_SIZE), Virtqueue::MAX_SIZE);
    EXPECT_EQ(bar<uint16_t>(Q_NOTIFY_OFF), 1);
    EXPECT_EQ(bar<uint16_t>(Q_MSIX), PciTransport::NO_VECTOR);
    EXPECT_EQ(bar<uint16_t>(MSIX_CONFIG), PciTransport::NO_VECTOR);
    set_bar<uint32_t>(DFSELECT, 1);
    EXPECT_EQ(bar<uint32_t>(DF), 1u);  // VERSION_1
}

TEST_F(PciTransportTest, VectorsBeyondTheTableReadBackAsNoVector) {
    set_bar<uint16_t>(MSIX_CONFIG, 2);
    EXPECT_EQ(bar<uint16_t>(MSIX_CONFIG), 2);
    set_bar<uint16_t>(MSIX_CONFIG, 3);
    EXPECT_EQ(bar<uint16_t>(MSIX_CONFIG), PciTransport::NO_VECTOR);
    set_bar<uint16_t>(Q_SELECT, 7);  // no such queue
    set_bar<uint16_t>(Q_MSIX, 0);
    EXPECT_EQ(bar<uint16_t>(Q_MSIX), PciTransport::NO_VECTOR);
}

TEST_F(PciTransportTest, WrongWidthCommonAccessesAreIgnored) {
    set_bar<uint32_t>(Q_SELECT, 1);  // a 16-bit field written with 32 bits
    EXPECT_EQ(bar<uint16_t>(Q_SELECT), 0);
    set_bar<uint16_t>(STATUS, status::ACKNOWLEDGE);
    EXPECT_EQ(bar<uint8_t>(STATUS), 0);
    EXPECT_EQ(bar<uint32_t>(NUM_QUEUES - 2), 0u);  // straddles two fields
}

TEST_F(PciTransportTest, UsedBuffersRaiseTheQueueVector) {
    enable_msix();
    bring_up(1);
    ASSERT_EQ(bar<uint8_t>(STATUS), 0x0f);
    driver.add_chain({{0x10000, 8, true}});
    set_bar<uint16_t>(PciTransport::queue_notify_offset(0), 0);
    EXPECT_EQ(driver.used_idx(), 1);
    ASSERT_EQ(msi.delivered.size(), 1u);
    EXPECT_EQ(msi.delivered[0].first, 1);
    EXPECT_EQ(msi.delivered[0].second, (pci::MsiMessage{0xfee00000, 0x41}));
    EXPECT_FALSE(intx.level);
    EXPECT_EQ(bar<uint8_t>(PciTransport::ISR_OFFSET), 0);  // MSI-X: no ISR queue bit
}

TEST_F(PciTransportTest, NoVectorMeansNoInterrupt) {
    enable_msix();
    bring_up(PciTransport::NO_VECTOR);
    driver.add_chain({{0x10000, 8, true}});
    EXPECT_FALSE(transport.notify(0));
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_TRUE(msi.delivered.empty());
    EXPECT_FALSE(intx.level);
}

TEST_F(PciTransportTest, MaskedFunctionPendsUntilUnmasked) {
    enable_msix();
    bring_up(0);
    const uint8_t cap = capabilities().at(pci::capability::MSIX);
    set_cfg<uint16_t>(cap + 2, pci::Msix::CONTROL_ENABLE | pci::Msix::CONTROL_FUNCTION_MASK);
    driver.add_chain({{0x10000, 8, true}});
    transport.notify(0);
    EXPECT_TRUE(msi.delivered.empty());
    EXPECT_EQ(bar<uint32_t>(PciTransport::MSIX_PBA_OFFSET), 1u);
    set_cfg<uint16_t>(cap + 2, pci::Msix::CONTROL_ENABLE);
    EXPECT_EQ(msi.delivered.size(), 1u);
    EXPECT_EQ(bar<uint32_t>(PciTransport::MSIX_PBA_OFFSET), 0u);
}

TEST_F(PciTransportTest, WithoutMsixInterruptsAreIsrBitsOnIntx) {
    bring_up(PciTransport::NO_VECTOR);
    driver.add_chain({{0x10000, 8, true}});
    transport.notify(0);
    EXPECT_TRUE(intx.level);
    EXPECT_TRUE(cfg<uint16_t>(pci::reg::STATUS) & pci::status::INTERRUPT);
    EXPECT_EQ(bar<uint8_t>(PciTransport::ISR_OFFSET), 1);  // read clears and deasserts
    EXPECT_FALSE(intx.level);
    EXPECT_EQ(bar<uint8_t>(PciTransport::ISR_OFFSET), 0);
    EXPECT_FALSE(cfg<uint16_t>(pci::reg::STATUS) & pci::status::INTERRUPT);
}

TEST_F(PciTransportTest, InterruptDisableHoldsIntxLow) {
    bring_up(PciTransport::NO_VECTOR);
    set_cfg<uint16_t>(pci::reg::COMMAND, pci::command::MEMORY | pci::command::INTX_DISABLE);
    driver.add_chain({{0x10000, 8, true}});
    transport.notify(0);
    EXPECT_FALSE(intx.level);
    EXPECT_TRUE(cfg<uint16_t>(pci::reg::STATUS) & pci::status::INTERRUPT);  // still pending
    set_cfg<uint16_t>(pci::reg::COMMAND, pci::command::MEMORY);
    EXPECT_TRUE(intx.level);
}

TEST_F(PciTransportTest, ConfigChangeUsesTheConfigVectorAndIsrBit) {
    enable_msix();
    bring_up(0);
    set_bar<uint16_t>(MSIX_CONFIG, 2);
    ASSERT_TRUE(transport.change_device([](VirtioDevice&) -> Status { return {}; }).ok());
    ASSERT_EQ(msi.delivered.size(), 1u);
    EXPECT_EQ(msi.delivered[0].first, 2);
    EXPECT_EQ(bar<uint8_t>(PciTransport::ISR_OFFSET), 2);
}

TEST_F(PciTransportTest, ResetRestoresTransportState) {
    enable_msix();
    bring_up(1);
    set_bar<uint16_t>(MSIX_CONFIG, 2);
    set_bar<uint8_t>(STATUS, 0);
    EXPECT_EQ(bar<uint8_t>(STATUS), 0);
    EXPECT_EQ(bar<uint16_t>(MSIX_CONFIG), PciTransport::NO_VECTOR);
    EXPECT_EQ(bar<uint16_t>(Q_MSIX), PciTransport::NO_VECTOR);
    EXPECT_EQ(bar<uint16_t>(Q_ENABLE), 0);
    EXPECT_EQ(bar<uint16_t>(Q_SIZE), Virtqueue::MAX_SIZE);
    EXPECT_EQ(device->resets, 1);
}

TEST_F(PciTransportTest, PciCfgCapabilityWindowsIntoBarZero) {
    const uint8_t cap = capabilities().at(0x0905);
    set_cfg<uint8_t>(cap + 4, 0);          // BAR 0
    set_cfg<uint32_t>(cap + 8, NUM_QUEUES);  // offset
    set_cfg<uint32_t>(cap + 12, 2);          // length
    EXPECT_EQ(cfg<uint16_t>(cap + 16), 2);   // num_queues through configuration space
    set_cfg<uint32_t>(cap + 8, Q_SELECT);
    set_cfg<uint16_t>(cap + 16, 1);
    EXPECT_EQ(bar<uint16_t>(Q_SELECT), 1);
    set_cfg<uint32_t>(cap + 12, 3);  // not 1, 2 or 4: nothing happens
    set_cfg<uint16_t>(cap + 16, 0);
    EXPECT_EQ(bar<uint16_t>(Q_SELECT), 1);
}

TEST_F(PciTransportTest, DeviceConfigurationIsInBarZero) {
    EXPECT_EQ(bar<uint8_t>(PciTransport::DEVICE_OFFSET + 3), 0xa3);
    uint8_t beyond = 0x11;
    ASSERT_TRUE(transport.mmio_read(BAR + PciTransport::DEVICE_OFFSET + 8, std::span(&beyond, 1)));
    EXPECT_EQ(beyond, 0x11);  // past the device's 8 bytes: untouched
}

}  // namespace
}  // namespace vmm::virtio
