#include "devices/virtio/rng.h"

#include <gtest/gtest.h>

#include "devices/virtio/virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct RngTest : ::testing::Test {
    FakeDriverQueue driver{16, 1ull << 20};
    bool source_works = true;
    Rng rng{driver.memory(), [this](std::span<uint8_t> out) {
                for (auto& b : out)
                    b = 0xab;
                return source_works;
            }};
    Virtqueue queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
};

TEST_F(RngTest, IsAnEntropyDeviceWithoutConfig) {
    EXPECT_EQ(rng.device_id(), device_id::ENTROPY);
    EXPECT_EQ(rng.config_size(), 0u);
    EXPECT_EQ(rng.device_features(), 0u);
}

TEST_F(RngTest, FillsWritableBuffersAndReportsLength) {
    const uint64_t a = driver.alloc(16), b = driver.alloc(32);
    driver.add_chain({{a, 16, true}, {b, 32, true}});
    ASSERT_TRUE(rng.process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).len, 48u);
    EXPECT_EQ(driver.memory().load<uint8_t>(b + 31).value(), 0xab);
}

// §5.4.6.1: only device-writable buffers are written.
TEST_F(RngTest, ReadableBuffersAreLeftAlone) {
    const uint64_t r = driver.alloc(16);
    driver.add_chain({{r, 16, false}});
    ASSERT_TRUE(rng.process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_elem(0).len, 0u);
    EXPECT_EQ(driver.memory().load<uint8_t>(r).value(), 0);
}

TEST_F(RngTest, RequestsAreCappedPerRequest) {
    const uint32_t big = Rng::MAX_BYTES_PER_REQUEST + 4096;
    const uint64_t buf = driver.alloc(big);
    driver.add_chain({{buf, big, true}});
    ASSERT_TRUE(rng.process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_elem(0).len, Rng::MAX_BYTES_PER_REQUEST);
    EXPECT_EQ(driver.memory().load<uint8_t>(buf + Rng::MAX_BYTES_PER_REQUEST).value(), 0);
}

TEST_F(RngTest, FailingSourceCompletesWithNothing) {
    source_works = false;
    driver.add_chain({{driver.alloc(16), 16, true}});
    ASSERT_TRUE(rng.process_queue(0, queue).ok());
    EXPECT_EQ(driver.used_elem(0).len, 0u);
}

TEST(RngSystemRandom, FillsTheWholeBuffer) {
    std::array<uint8_t, 4096> bytes{};
    ASSERT_TRUE(Rng::system_random(bytes));
    EXPECT_TRUE(std::any_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b != 0; }));
}

}  // namespace
}  // namespace vmm::virtio
