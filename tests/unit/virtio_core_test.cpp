#include "devices/virtio/virtio_core.h"

#include <gtest/gtest.h>

#include <vector>

#include "devices/virtio/virtio.h"
#include "tests/support/fake_virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct RecordingInterrupt : VirtioInterrupt {
    void signal_used(uint16_t queue) override { used.push_back(queue); }
    void signal_config() override { ++config; }
    std::vector<uint16_t> used;
    int config = 0;
};

// Two queues, four bytes of config space.
struct TwoQueueDevice : test::FakeVirtioDevice {
    TwoQueueDevice() : FakeVirtioDevice(99, 1ull << 5, 2, 4) {}
};

struct VirtioCoreTest : ::testing::Test {
    FakeDriverQueue driver;
    RecordingInterrupt interrupt;
    TwoQueueDevice* device = new TwoQueueDevice;
    VirtioCore core{std::unique_ptr<VirtioDevice>(device), driver.memory(), interrupt};

    void negotiate(uint64_t features) {
        core.write_status(status::ACKNOWLEDGE);
        core.write_status(status::ACKNOWLEDGE | status::DRIVER);
        core.set_driver_features_word(0, static_cast<uint32_t>(features));
        core.set_driver_features_word(1, static_cast<uint32_t>(features >> 32));
        core.write_status(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
    }
    void configure(uint32_t index, const QueueLayout& l) {
        core.set_queue_size(index, l.size);
        core.set_queue_ring_half(index, VirtioCore::Ring::Descriptors, false, static_cast<uint32_t>(l.desc_table));
        core.set_queue_ring_half(index, VirtioCore::Ring::Driver, false, static_cast<uint32_t>(l.avail_ring));
        core.set_queue_ring_half(index, VirtioCore::Ring::Device, false, static_cast<uint32_t>(l.used_ring));
        core.set_queue_ready(index, true);
    }
    void bring_up(uint32_t queue) {
        negotiate(feature::VERSION_1);
        configure(queue, driver.layout());
        core.write_status(0x0f);
    }
};

TEST_F(VirtioCoreTest, OffersDeviceFeaturesPlusWhatTheCoreImplements) {
    EXPECT_EQ(core.offered_features(),
              (1ull << 5) | feature::VERSION_1 | feature::RING_EVENT_IDX | feature::RING_INDIRECT_DESC);
    EXPECT_EQ(core.offered_features_word(1), 1u);
    EXPECT_EQ(core.offered_features_word(2), 0u);
}

TEST_F(VirtioCoreTest, DriverOkActivatesWithTheNegotiatedFeatures) {
    bring_up(0);
    EXPECT_EQ(core.status(), 0x0fu);
    EXPECT_EQ(device->activated_with, feature::VERSION_1);
}

TEST_F(VirtioCoreTest, FeaturesAreFixedOnceFeaturesOk) {
    negotiate(feature::VERSION_1);
    core.set_driver_features_word(0, 1u << 5);
    EXPECT_EQ(core.driver_features(), feature::VERSION_1);
}

TEST_F(VirtioCoreTest, UsedBuffersAreSignalledForTheirQueue) {
    bring_up(1);
    driver.add_chain({{driver.alloc(8), 8, true}});
    EXPECT_FALSE(core.notify(1));
    EXPECT_EQ(interrupt.used, std::vector<uint16_t>{1});
    EXPECT_EQ(driver.used_idx(), 1);
}

TEST_F(VirtioCoreTest, QueueThatIsNotReadyIsNotServed) {
    bring_up(1);
    EXPECT_FALSE(core.notify(0));
    EXPECT_FALSE(core.notify(7));
    EXPECT_TRUE(interrupt.used.empty());
}

TEST_F(VirtioCoreTest, ReadyQueueLayoutIsFixed) {
    bring_up(0);
    core.set_queue_size(0, 4);
    core.set_queue_ring_half(0, VirtioCore::Ring::Descriptors, true, 1);
    EXPECT_EQ(core.queue_size(0), driver.layout().size);
    EXPECT_EQ(core.queue_ring(0, VirtioCore::Ring::Descriptors), driver.layout().desc_table);
}

TEST_F(VirtioCoreTest, DeviceErrorSetsNeedsResetAndSignalsConfig) {
    bring_up(0);
    device->fail = true;
    driver.add_chain({{driver.alloc(8), 8, true}});
    EXPECT_FALSE(core.notify(0));
    EXPECT_TRUE(core.status() & status::DEVICE_NEEDS_RESET);
    EXPECT_FALSE(core.queue_ready(0));
    EXPECT_EQ(interrupt.config, 1);
}

TEST_F(VirtioCoreTest, IllegalTransitionBeforeDriverOkSignalsNothing) {
    core.write_status(status::DRIVER);  // DRIVER without ACKNOWLEDGE
    EXPECT_TRUE(core.status() & status::DEVICE_NEEDS_RESET);
    EXPECT_EQ(interrupt.config, 0);
}

TEST_F(VirtioCoreTest, BadQueueLayoutSetsNeedsReset) {
    negotiate(feature::VERSION_1);
    configure(0, {3, FakeDriverQueue::DESC, FakeDriverQueue::AVAIL, FakeDriverQueue::USED});
    EXPECT_TRUE(core.status() & status::DEVICE_NEEDS_RESET);
    EXPECT_FALSE(core.queue_ready(0));
}

TEST_F(VirtioCoreTest, ConfigChangeBumpsTheGenerationAndSignalsOnlyALiveDriver) {
    core.config_changed();
    EXPECT_EQ(core.config_generation(), 1u);
    EXPECT_EQ(interrupt.config, 0);
    bring_up(0);
    core.config_changed();
    EXPECT_EQ(core.config_generation(), 2u);
    EXPECT_EQ(interrupt.config, 1);
}

TEST_F(VirtioCoreTest, ResetClearsStatusFeaturesAndQueues) {
    bring_up(0);
    core.write_status(0);
    EXPECT_EQ(core.status(), 0u);
    EXPECT_EQ(core.driver_features(), 0u);
    EXPECT_FALSE(core.queue_ready(0));
    EXPECT_EQ(core.queue_size(0), 0);
    EXPECT_EQ(device->resets, 1);
}

TEST_F(VirtioCoreTest, ConfigOffsetsStayInsideConfigSpace) {
    EXPECT_EQ(core.config_offset(0, 4), 0u);
    EXPECT_EQ(core.config_offset(2, 2), 2u);
    EXPECT_FALSE(core.config_offset(2, 4));
    EXPECT_FALSE(core.config_offset(UINT64_MAX, 1));
}

TEST_F(VirtioCoreTest, RestoredCoreServesLikeTheSavedOne) {
    bring_up(1);
    driver.add_chain({{driver.alloc(8), 8, true}});
    (void)core.notify(1);
    const VirtioCore::State saved = core.save();

    RecordingInterrupt other_interrupt;
    auto* fresh = new TwoQueueDevice;
    VirtioCore other{std::unique_ptr<VirtioDevice>(fresh), driver.memory(), other_interrupt};
    ASSERT_TRUE(other.restore(saved).ok());
    EXPECT_EQ(other.save(), saved);
    EXPECT_EQ(other.status(), 0x0fu);
    EXPECT_TRUE(other.queue_ready(1));
    EXPECT_FALSE(other.queue_ready(0));
    EXPECT_EQ(fresh->activated_with, feature::VERSION_1);  // re-activated with the saved features
    driver.add_chain({{driver.alloc(8), 8, true}}, 2);
    (void)other.notify(1);
    EXPECT_EQ(driver.used_idx(), 2);
    EXPECT_EQ(other_interrupt.used, std::vector<uint16_t>{1});
}

TEST_F(VirtioCoreTest, RestoreRefusesAStateThatDoesNotFit) {
    bring_up(0);
    const VirtioCore::State good = core.save();
    auto refused = [&](VirtioCore::State bad) {
        RecordingInterrupt irq;
        VirtioCore other{std::make_unique<TwoQueueDevice>(), driver.memory(), irq};
        return !other.restore(bad).ok();
    };
    VirtioCore::State bad = good;
    bad.status |= 0x10;
    EXPECT_TRUE(refused(bad));
    bad = good;
    bad.queues.pop_back();
    EXPECT_TRUE(refused(bad));
    bad = good;
    bad.driver_features |= 1ull << 40;
    EXPECT_TRUE(refused(bad));
    bad = good;
    bad.queues[0].queue.reset();  // ready without its state
    EXPECT_TRUE(refused(bad));
    bad = good;
    bad.queues[0].queue->layout.desc_table = 8;  // misaligned
    EXPECT_TRUE(refused(bad));
    EXPECT_FALSE(refused(good));
}

}  // namespace
}  // namespace vmm::virtio

namespace vmm::virtio {
namespace {

// A device whose rings another process serves: records what the core hands it.
struct ExternalDevice : test::FakeVirtioDevice, ExternalRings {
    ExternalDevice() : FakeVirtioDevice(26, 0, 2, 4) {}
    ExternalRings* external_rings() override { return this; }
    uint64_t ring_features() const override { return feature::RING_EVENT_IDX; }
    Status start(uint64_t features, std::span<const Queue> ready) override {
        started_with = features;
        started.assign(ready.begin(), ready.end());
        return fail_start ? Status(Error("backend gone")) : Status{};
    }
    void kick(uint32_t index) override { kicks.push_back(index); }
    uint64_t started_with = 0;
    std::vector<Queue> started;
    std::vector<uint32_t> kicks;
    bool fail_start = false;
};

struct ExternalRingsTest : ::testing::Test {
    test::FakeDriverQueue driver;
    RecordingInterrupt interrupt;
    ExternalDevice* device = new ExternalDevice;
    VirtioCore core{std::unique_ptr<VirtioDevice>(device), driver.memory(), interrupt};

    void bring_up() {
        core.write_status(status::ACKNOWLEDGE | status::DRIVER);
        core.set_driver_features_word(1, 1);  // VERSION_1
        core.write_status(status::ACKNOWLEDGE | status::DRIVER | status::FEATURES_OK);
        const QueueLayout l = driver.layout();
        core.set_queue_size(1, l.size);
        core.set_queue_ring_half(1, VirtioCore::Ring::Descriptors, false, static_cast<uint32_t>(l.desc_table));
        core.set_queue_ring_half(1, VirtioCore::Ring::Driver, false, static_cast<uint32_t>(l.avail_ring));
        core.set_queue_ring_half(1, VirtioCore::Ring::Device, false, static_cast<uint32_t>(l.used_ring));
        core.set_queue_ready(1, true);
        core.write_status(0x0f);
    }
};

TEST_F(ExternalRingsTest, OffersOnlyTheRingFeaturesTheDeviceHas) {
    EXPECT_EQ(core.offered_features(), feature::VERSION_1 | feature::RING_EVENT_IDX);
}

TEST_F(ExternalRingsTest, DriverOkHandsOverTheReadyQueues) {
    bring_up();
    EXPECT_EQ(core.status(), 0x0fu);
    EXPECT_EQ(device->started_with, feature::VERSION_1);
    ASSERT_EQ(device->started.size(), 1u);
    EXPECT_EQ(device->started[0].index, 1u);
    EXPECT_EQ(device->started[0].layout, driver.layout());
}

TEST_F(ExternalRingsTest, NotificationsAreForwardedNotServed) {
    bring_up();
    driver.add_chain({{driver.alloc(8), 8, true}});
    EXPECT_FALSE(core.notify(1));
    EXPECT_EQ(device->kicks, std::vector<uint32_t>{1});
    EXPECT_EQ(device->calls, 0);
    EXPECT_EQ(driver.used_idx(), 0) << "the core must not touch an external ring";
    EXPECT_FALSE(core.notify(0));  // not ready
    EXPECT_EQ(device->kicks.size(), 1u);
}

TEST_F(ExternalRingsTest, UsedBuffersAreSignalledOnlyWhileRunning) {
    core.external_used(1);
    EXPECT_TRUE(interrupt.used.empty());
    bring_up();
    core.external_used(1);
    core.external_used(0);  // not ready
    EXPECT_EQ(interrupt.used, std::vector<uint16_t>{1});
    core.needs_reset("backend closed");
    core.external_used(1);
    EXPECT_EQ(interrupt.used.size(), 1u);
}

TEST_F(ExternalRingsTest, FailedStartNeedsReset) {
    device->fail_start = true;
    bring_up();
    EXPECT_TRUE(core.status() & status::DEVICE_NEEDS_RESET);
    EXPECT_EQ(interrupt.config, 1);
}

}  // namespace
}  // namespace vmm::virtio
