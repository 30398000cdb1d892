#include "devices/virtio/queue.h"

#include <gtest/gtest.h>

#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

struct QueueTest : ::testing::Test {
    FakeDriverQueue driver{16};
    Virtqueue queue = Virtqueue::create(driver.memory(), driver.layout(), false, true).value();
    DescriptorChain chain;

    Error pop_error() {
        auto r = queue.pop(chain);
        EXPECT_FALSE(r.ok());
        return r.ok() ? Error("popped") : r.error();
    }
};

TEST_F(QueueTest, EmptyQueuePopsNothing) { EXPECT_FALSE(queue.pop(chain).value()); }

TEST_F(QueueTest, PopsReadableThenWritableBuffers) {
    driver.add_chain({{0x10000, 16, false}, {0x10100, 512, true}, {0x10400, 1, true}});
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(chain.head, 0);
    ASSERT_EQ(chain.readable.size(), 1u);
    ASSERT_EQ(chain.writable.size(), 2u);
    EXPECT_EQ(chain.readable_bytes, 16u);
    EXPECT_EQ(chain.writable_bytes, 513u);
    EXPECT_FALSE(queue.pop(chain).value());
}

TEST_F(QueueTest, AddUsedPublishesElementAndIndex) {
    driver.add_chain({{0x10000, 16, false}}, 3);
    ASSERT_TRUE(queue.pop(chain).value());
    ASSERT_TRUE(queue.add_used(chain.head, 77).ok());
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.used_elem(0).addr, 3u);
    EXPECT_EQ(driver.used_elem(0).len, 77u);
}

TEST_F(QueueTest, AddUsedBatchPublishesEveryElementWithOneIndex) {
    const Virtqueue::Used frame[] = {{5, 1500}, {9, 1500}, {2, 40}};
    ASSERT_TRUE(queue.add_used(frame).ok());
    EXPECT_EQ(driver.used_idx(), 3);
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(driver.used_elem(i).addr, frame[i].first) << i;
        EXPECT_EQ(driver.used_elem(i).len, frame[i].second) << i;
    }
    ASSERT_TRUE(queue.add_used(std::span<const Virtqueue::Used>()).ok());
    EXPECT_EQ(driver.used_idx(), 3);
}

// §2.7.5.3.1: chains longer than the queue size (loops) are a device error.
TEST_F(QueueTest, DescriptorLoopIsAnError) {
    driver.write_desc(0, {0x10000, 8, VIRTQ_DESC_F_NEXT, 1});
    driver.write_desc(1, {0x10000, 8, VIRTQ_DESC_F_NEXT, 0});
    driver.make_available(0);
    EXPECT_NE(pop_error().message().find("longer than its table"), std::string::npos);
}

TEST_F(QueueTest, NextIndexOutOfRangeIsAnError) {
    driver.write_desc(0, {0x10000, 8, VIRTQ_DESC_F_NEXT, 16});
    driver.make_available(0);
    EXPECT_NE(pop_error().message().find("out of range"), std::string::npos);
}

TEST_F(QueueTest, HeadOutOfRangeIsAnError) {
    driver.make_available(200);
    EXPECT_NE(pop_error().message().find("names descriptor 200"), std::string::npos);
}

TEST_F(QueueTest, BufferOutsideGuestMemoryIsAnError) {
    driver.add_chain({{FakeDriverQueue::MEMORY_SIZE - 8, 16, false}});
    EXPECT_NE(pop_error().message().find("outside guest memory"), std::string::npos);
}

TEST_F(QueueTest, BufferWrappingTheAddressSpaceIsAnError) {
    driver.add_chain({{UINT64_MAX - 4, 16, false}});
    EXPECT_FALSE(queue.pop(chain).ok());
}

// §2.7.4.2: the device may treat readable-after-writable as an error.
TEST_F(QueueTest, ReadableAfterWritableIsAnError) {
    driver.add_chain({{0x10000, 8, true}, {0x10100, 8, false}});
    EXPECT_NE(pop_error().message().find("readable descriptor after"), std::string::npos);
}

TEST_F(QueueTest, AvailIndexJumpingMoreThanQueueSizeIsAnError) {
    driver.set_avail_idx(17);
    EXPECT_NE(pop_error().message().find("moved by 17"), std::string::npos);
}

TEST_F(QueueTest, IndirectTableIsFollowed) {
    const uint64_t table = driver.alloc(32);
    (void)driver.memory().store(table, VirtqDesc{0x20000, 16, VIRTQ_DESC_F_NEXT, 1});
    (void)driver.memory().store(table + 16, VirtqDesc{0x20100, 64, VIRTQ_DESC_F_WRITE, 0});
    driver.write_desc(0, {table, 32, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(chain.readable_bytes, 16u);
    EXPECT_EQ(chain.writable_bytes, 64u);
}

// §2.7.5.3.1: no nested indirect tables; INDIRECT with NEXT is forbidden.
TEST_F(QueueTest, NestedIndirectIsAnError) {
    const uint64_t table = driver.alloc(16);
    (void)driver.memory().store(table, VirtqDesc{table, 16, VIRTQ_DESC_F_INDIRECT, 0});
    driver.write_desc(0, {table, 16, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    EXPECT_FALSE(queue.pop(chain).ok());
}

TEST_F(QueueTest, IndirectWithNextIsAnError) {
    driver.write_desc(0, {driver.alloc(16), 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1});
    driver.make_available(0);
    EXPECT_FALSE(queue.pop(chain).ok());
}

TEST_F(QueueTest, IndirectTableWithPartialEntryIsAnError) {
    driver.write_desc(0, {driver.alloc(32), 24, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    EXPECT_FALSE(queue.pop(chain).ok());
}

TEST_F(QueueTest, IndirectNotNegotiatedIsAnError) {
    auto plain = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    driver.write_desc(0, {driver.alloc(16), 16, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    EXPECT_FALSE(plain.pop(chain).ok());
}

TEST_F(QueueTest, IndirectLoopIsBoundedByQueueSize) {
    const uint64_t table = driver.alloc(32);
    (void)driver.memory().store(table, VirtqDesc{0x20000, 8, VIRTQ_DESC_F_NEXT, 1});
    (void)driver.memory().store(table + 16, VirtqDesc{0x20000, 8, VIRTQ_DESC_F_NEXT, 0});
    driver.write_desc(0, {table, 32, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    EXPECT_FALSE(queue.pop(chain).ok());
}

// Linux's largest virtio-blk request: header + seg_max (254) segments + status in one
// 256-entry indirect table, on a 256-entry queue. The indirect descriptor is not an entry.
TEST(QueueIndirect, TableAsLargeAsTheQueueIsServed) {
    FakeDriverQueue driver(256);
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, true).value();
    const uint64_t table = driver.alloc(256 * 16);
    for (uint16_t i = 0; i < 256; ++i) {
        const uint16_t flags = (i == 255 ? 0 : VIRTQ_DESC_F_NEXT) | (i == 0 ? 0 : VIRTQ_DESC_F_WRITE);
        ASSERT_TRUE(driver.memory().store(table + 16ull * i, VirtqDesc{0x20000, 512, flags, uint16_t(i + 1)}).ok());
    }
    driver.write_desc(0, {table, 256 * 16, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    DescriptorChain chain;
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(chain.readable.size(), 1u);
    EXPECT_EQ(chain.writable.size(), 255u);
}

TEST(QueueIndirect, TableLargerThanTheLargestQueueIsAnError) {
    FakeDriverQueue driver(256);
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, true).value();
    driver.write_desc(0, {driver.alloc(257 * 16), 257 * 16, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    DescriptorChain chain;
    EXPECT_FALSE(queue.pop(chain).ok());
}

// §2.7.5.3 asks no alignment of an indirect table (slab debugging hands out 8-byte aligned ones).
TEST_F(QueueTest, IndirectTableNeedNotBe16ByteAligned) {
    const uint64_t table = driver.alloc(48) + 8;
    (void)driver.memory().store(table, VirtqDesc{0x20000, 16, VIRTQ_DESC_F_NEXT, 1});
    (void)driver.memory().store(table + 16, VirtqDesc{0x20100, 64, VIRTQ_DESC_F_WRITE, 0});
    driver.write_desc(0, {table, 32, VIRTQ_DESC_F_INDIRECT, 0});
    driver.make_available(0);
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(chain.writable_bytes, 64u);
}

TEST(QueueCreate, RejectsBadSizesAndAlignment) {
    FakeDriverQueue driver;
    auto layout = driver.layout();
    for (uint16_t size : {0, 3, 512}) {
        layout.size = size;
        EXPECT_FALSE(Virtqueue::create(driver.memory(), layout, false, false).ok()) << size;
    }
    layout = driver.layout();
    layout.desc_table += 8;
    EXPECT_FALSE(Virtqueue::create(driver.memory(), layout, false, false).ok());
    layout = driver.layout();
    layout.used_ring += 2;
    EXPECT_FALSE(Virtqueue::create(driver.memory(), layout, false, false).ok());
    layout = driver.layout();
    layout.avail_ring = FakeDriverQueue::MEMORY_SIZE - 4;
    EXPECT_FALSE(Virtqueue::create(driver.memory(), layout, false, false).ok());
}

TEST(QueueNotify, NoInterruptFlagSuppressesNotification) {
    FakeDriverQueue driver;
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    DescriptorChain chain;
    driver.add_chain({{0x10000, 8, false}});
    ASSERT_TRUE(queue.pop(chain).value());
    ASSERT_TRUE(queue.add_used(chain.head, 0).ok());
    driver.set_avail_flags(VIRTQ_AVAIL_F_NO_INTERRUPT);
    EXPECT_FALSE(queue.should_notify().value());
}

// §2.7.10: with EVENT_IDX, notify only when used idx passes used_event.
TEST(QueueNotify, EventIdxNotifiesWhenUsedEventIsCrossed) {
    FakeDriverQueue driver;
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), true, false).value();
    DescriptorChain chain;
    driver.set_used_event(1);  // interrupt me after the second used entry
    for (uint16_t i = 0; i < 2; ++i)
        driver.add_chain({{0x10000, 8, false}}, i);
    ASSERT_TRUE(queue.pop(chain).value());
    ASSERT_TRUE(queue.add_used(chain.head, 0).ok());
    EXPECT_FALSE(queue.should_notify().value());
    ASSERT_TRUE(queue.pop(chain).value());
    ASSERT_TRUE(queue.add_used(chain.head, 0).ok());
    EXPECT_TRUE(queue.should_notify().value());
    EXPECT_FALSE(queue.should_notify().value());  // nothing new since
}

TEST(QueueNotify, EventIdxPublishesAvailEvent) {
    FakeDriverQueue driver;
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), true, false).value();
    DescriptorChain chain;
    driver.add_chain({{0x10000, 8, false}});
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(driver.memory().load<uint16_t>(FakeDriverQueue::USED + 4 + 8 * 16).value(), 1);
}

// A queue restored from its saved state pops and completes exactly where the original would.
TEST_F(QueueTest, RestoredQueueContinuesWhereTheSavedOneStopped) {
    driver.add_chain({{0x10000, 16, false}}, 0);
    driver.add_chain({{0x10100, 16, false}}, 2);
    driver.add_chain({{0x10200, 16, false}}, 4);
    ASSERT_TRUE(queue.pop(chain).value());
    ASSERT_TRUE(queue.add_used(chain.head, 1).ok());
    (void)queue.should_notify();
    const Virtqueue::State saved = queue.save();
    EXPECT_EQ(saved.next_avail, 1);
    EXPECT_EQ(saved.next_used, 1);

    auto restored = Virtqueue::restore(driver.memory(), saved);
    ASSERT_TRUE(restored.ok());
    EXPECT_EQ(restored->save(), saved);
    ASSERT_TRUE(restored->pop(chain).value());
    EXPECT_EQ(chain.head, 2);
    ASSERT_TRUE(restored->add_used(chain.head, 1).ok());
    EXPECT_EQ(driver.used_idx(), 2);
    EXPECT_EQ(driver.used_elem(1).addr, 2u);
}

TEST_F(QueueTest, RestoreChecksTheLayoutLikeCreate) {
    Virtqueue::State bad = queue.save();
    bad.layout.size = 3;
    EXPECT_FALSE(Virtqueue::restore(driver.memory(), bad).ok());
    bad = queue.save();
    bad.layout.used_ring = FakeDriverQueue::MEMORY_SIZE;
    EXPECT_FALSE(Virtqueue::restore(driver.memory(), bad).ok());
}

}  // namespace
}  // namespace vmm::virtio
