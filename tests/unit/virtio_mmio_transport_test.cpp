#include "devices/virtio/mmio_transport.h"

#include <gtest/gtest.h>

#include <cstring>

#include "devices/virtio/virtio.h"
#include "tests/support/fake_virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct FakeInterrupt : Interrupt {
    void trigger() override { ++count; }
    int count = 0;
};

using FakeDevice = test::FakeVirtioDevice;

constexpr uint64_t STATUS = 0x70;

struct TransportTest : ::testing::Test {
    FakeDriverQueue driver;
    FakeInterrupt interrupt;
    FakeDevice* device = new FakeDevice;
    MmioTransport transport{std::unique_ptr<VirtioDevice>(device), driver.memory(), interrupt};

    test::MmioDriver mmio{transport};

    uint32_t rd(uint64_t offset) { return mmio.rd(offset); }
    void wr(uint64_t offset, uint32_t v) { mmio.wr(offset, v); }
    void negotiate(uint64_t features) { mmio.negotiate(features); }
    void setup_queue(const QueueLayout& l) { mmio.setup_queue(0, l); }
    void bring_up() { mmio.bring_up(driver.layout()); }
};

TEST_F(TransportTest, IdentifiesAsModernVirtioMmio) {
    EXPECT_EQ(rd(0x000), 0x74726976u);
    EXPECT_EQ(rd(0x004), 2u);
    EXPECT_EQ(rd(0x008), 42u);
    EXPECT_EQ(rd(0x034), Virtqueue::MAX_SIZE);
}

TEST_F(TransportTest, OffersDeviceAndTransportFeatures) {
    wr(0x14, 0);
    EXPECT_EQ(rd(0x10), (1u << 3) | (1u << 28) | (1u << 29));
    wr(0x14, 1);
    EXPECT_EQ(rd(0x10), 1u);  // VERSION_1
    wr(0x14, 2);
    EXPECT_EQ(rd(0x10), 0u);
}

TEST_F(TransportTest, FeaturesOkAcceptedForOfferedSubsetWithVersion1) {
    negotiate(feature::VERSION_1 | (1ull << 3));
    EXPECT_TRUE(rd(STATUS) & status::FEATURES_OK);
}

// §2.2.2: the device does not accept features it did not offer.
TEST_F(TransportTest, FeaturesOkRefusedForUnofferedFeature) {
    negotiate(feature::VERSION_1 | (1ull << 7));
    EXPECT_FALSE(rd(STATUS) & status::FEATURES_OK);
}

TEST_F(TransportTest, FeaturesOkRefusedWithoutVersion1) {
    negotiate(1ull << 3);
    EXPECT_FALSE(rd(STATUS) & status::FEATURES_OK);
}

// Regression: FEATURES_OK refused in the same write that sets DRIVER_OK must not activate the
// device with features it never offered (§3.1.1).
TEST_F(TransportTest, DriverOkWithRefusedFeaturesInOneWriteDoesNotActivate) {
    wr(STATUS, status::ACKNOWLEDGE);
    wr(STATUS, status::ACKNOWLEDGE | status::DRIVER);
    wr(0x24, 0);
    wr(0x20, 1u << 7);  // not offered, and no VERSION_1
    wr(STATUS, status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK | status::DRIVER_OK);
    EXPECT_FALSE(rd(STATUS) & status::FEATURES_OK);
    EXPECT_FALSE(rd(STATUS) & status::DRIVER_OK);
    EXPECT_EQ(device->activated_with, 0u);
}

// Regression: a device that says it has nothing left is not called again by notify().
TEST_F(TransportTest, NotifyReportsNoWorkWhenTheDeviceHasNone) {
    bring_up();
    driver.add_chain({{0x10000, 16, false}});
    EXPECT_FALSE(transport.notify(0));
    EXPECT_EQ(device->calls, 1);
}

// §3.1.1: DRIVER_OK before FEATURES_OK is an illegal transition.
TEST_F(TransportTest, IllegalStatusTransitionNeedsReset) {
    wr(STATUS, status::ACKNOWLEDGE);
    wr(STATUS, status::ACKNOWLEDGE | status::DRIVER_OK);
    EXPECT_TRUE(rd(STATUS) & status::DEVICE_NEEDS_RESET);
}

TEST_F(TransportTest, ClearingStatusBitsNeedsReset) {
    wr(STATUS, status::ACKNOWLEDGE);
    wr(STATUS, status::ACKNOWLEDGE | status::DRIVER);
    wr(STATUS, status::DRIVER);
    EXPECT_TRUE(rd(STATUS) & status::DEVICE_NEEDS_RESET);
}

TEST_F(TransportTest, WritingZeroResetsEverything) {
    bring_up();
    wr(STATUS, 0);
    EXPECT_EQ(rd(STATUS), 0u);
    EXPECT_EQ(rd(0x44), 0u);
    EXPECT_EQ(device->resets, 1);
}

// §4.2.2.2: registers take 32-bit aligned accesses only.
TEST_F(TransportTest, NarrowOrUnalignedRegisterAccessIsIgnored) {
    uint8_t byte = status::ACKNOWLEDGE;
    transport.write(STATUS, std::span(&byte, 1));
    EXPECT_EQ(rd(STATUS), 0u);
    uint32_t v = 0xffffffff;
    transport.read(0x002, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    EXPECT_EQ(v, 0xffffffffu);  // untouched
}

TEST_F(TransportTest, ConfigSpaceAllowsByteAccessInsideItsSize) {
    uint8_t b = 0;
    transport.read(0x100 + 3, std::span(&b, 1));
    EXPECT_EQ(b, 0xa3);
    uint32_t v = 0x12345678;
    transport.read(0x100 + 6, std::span(reinterpret_cast<uint8_t*>(&v), 4));  // past the end
    EXPECT_EQ(v, 0x12345678u);
}

TEST_F(TransportTest, QueueReadyWithInvalidLayoutNeedsReset) {
    negotiate(feature::VERSION_1);
    auto layout = driver.layout();
    layout.size = 3;
    setup_queue(layout);
    EXPECT_TRUE(rd(STATUS) & status::DEVICE_NEEDS_RESET);
    EXPECT_EQ(rd(0x44), 0u);
}

TEST_F(TransportTest, DriverOkActivatesWithNegotiatedFeatures) {
    bring_up();
    EXPECT_EQ(rd(STATUS), 0x0fu);
    EXPECT_EQ(device->activated_with, feature::VERSION_1);
}

TEST_F(TransportTest, NotifyProcessesQueueAndInterruptsUntilAcked) {
    bring_up();
    driver.add_chain({{0x10000, 8, false}});
    wr(0x50, 0);
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(interrupt.count, 1);
    EXPECT_EQ(rd(0x60), INTERRUPT_USED_BUFFER);
    wr(0x64, INTERRUPT_USED_BUFFER);
    EXPECT_EQ(rd(0x60), 0u);
}

TEST_F(TransportTest, ChangedDeviceBumpsGenerationAndRaisesConfigInterrupt) {
    bring_up();
    const uint32_t generation = rd(0xfc);
    ASSERT_TRUE(transport.change_device([](VirtioDevice&) -> Status { return {}; }).ok());
    EXPECT_EQ(rd(0xfc), generation + 1);
    EXPECT_EQ(rd(0x60) & INTERRUPT_CONFIG_CHANGE, INTERRUPT_CONFIG_CHANGE);
    EXPECT_EQ(interrupt.count, 1);
}

TEST_F(TransportTest, FailedChangeTellsTheDriverNothing) {
    bring_up();
    const uint32_t generation = rd(0xfc);
    EXPECT_FALSE(transport.change_device([](VirtioDevice&) -> Status { return Error("no"); }).ok());
    EXPECT_EQ(rd(0xfc), generation);
    EXPECT_EQ(rd(0x60), 0u);
    EXPECT_EQ(interrupt.count, 0);
}

TEST_F(TransportTest, NotifyBeforeDriverOkDoesNothing) {
    negotiate(feature::VERSION_1);
    setup_queue(driver.layout());
    driver.add_chain({{0x10000, 8, false}});
    transport.notify(0);
    EXPECT_EQ(driver.used_idx(), 0);
}

TEST_F(TransportTest, DeviceErrorSetsNeedsResetAndRaisesConfigInterrupt) {
    bring_up();
    device->fail = true;
    driver.add_chain({{0x10000, 8, false}});
    transport.notify(0);
    EXPECT_TRUE(rd(STATUS) & status::DEVICE_NEEDS_RESET);
    EXPECT_EQ(rd(0x60) & INTERRUPT_CONFIG_CHANGE, INTERRUPT_CONFIG_CHANGE);
    device->fail = false;
    driver.add_chain({{0x10000, 8, false}}, 1);
    transport.notify(0);
    EXPECT_EQ(driver.used_idx(), 0);  // nothing served until the driver resets
}

TEST_F(TransportTest, QueueLayoutIsFixedOnceReady) {
    bring_up();
    wr(0x38, 4);
    wr(0x80, 0x5000);
    driver.add_chain({{0x10000, 8, false}});
    transport.notify(0);
    EXPECT_EQ(driver.used_idx(), 1);
}

TEST_F(TransportTest, NotifyForMissingQueueIsIgnored) {
    bring_up();
    EXPECT_FALSE(transport.notify(7));
    EXPECT_EQ(interrupt.count, 0);
}

TEST_F(TransportTest, NotifyReportsNothingLeftWhenTheDeviceServedAll) {
    bring_up();
    driver.add_chain({{0x10000, 8, false}});
    EXPECT_FALSE(transport.notify(0));
    EXPECT_EQ(driver.used_idx(), 1);
}

}  // namespace
}  // namespace vmm::virtio

namespace vmm::virtio {
namespace {

TEST(MmioTransportDiscovery, AnnouncesTheWindowAndInterruptForTheCommandLine) {
    EXPECT_EQ(MmioTransport::cmdline_announcement(0xd0000000, 5), "virtio_mmio.device=4K@0xd0000000:5");
}

TEST(MmioTransportState, RegistersComeBackAfterRestore) {
    FakeDriverQueue driver;
    FakeInterrupt irq;
    MmioTransport transport{std::make_unique<FakeDevice>(), driver.memory(), irq};
    test::MmioDriver mmio{transport};
    mmio.wr(0x70, status::ACKNOWLEDGE);
    mmio.wr(0x14, 1);  // DeviceFeaturesSel
    mmio.wr(0x30, 0);  // QueueSel
    const MmioTransport::State saved = transport.save();

    FakeInterrupt other_irq;
    MmioTransport other{std::make_unique<FakeDevice>(), driver.memory(), other_irq};
    ASSERT_TRUE(other.restore(saved).ok());
    EXPECT_EQ(other.save(), saved);
    test::MmioDriver other_mmio{other};
    EXPECT_EQ(other_mmio.rd(0x70), status::ACKNOWLEDGE);
    EXPECT_EQ(other_mmio.rd(0x10), 1u);  // the high feature word: VERSION_1
}

}  // namespace
}  // namespace vmm::virtio
