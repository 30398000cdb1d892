#include "devices/virtio/block.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <vector>

#include "devices/virtio/virtio.h"
#include "tests/support/virtio_driver_fake.h"

namespace vmm::virtio {
namespace {

using test::FakeDriverQueue;

// A 64-sector disk whose byte i is i % 251.
struct TempDisk {
    TempDisk(size_t bytes = 64 * 512) {
        char name[] = "/tmp/ember-blk-test-XXXXXX";
        int fd = ::mkstemp(name);
        path = name;
        std::vector<uint8_t> data(bytes);
        for (size_t i = 0; i < bytes; ++i)
            data[i] = static_cast<uint8_t>(i % 251);
        EXPECT_EQ(::write(fd, data.data(), data.size()), static_cast<ssize_t>(data.size()));
        ::close(fd);
    }
    ~TempDisk() { ::unlink(path.c_str()); }
    std::vector<uint8_t> contents() const {
        std::ifstream in(path, std::ios::binary);
        return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
    }
    std::string path;
};

// Every behaviour holds for both engines.
struct BlockTest : ::testing::TestWithParam<DiskEngineKind> {
    TempDisk disk;
    FakeDriverQueue driver;
    std::unique_ptr<Block> block;
    uint64_t header_addr = driver.alloc(16);
    uint64_t status_addr = driver.alloc(1);

    void open(bool readonly = false, uint64_t features = blk::F_DISCARD | blk::F_WRITE_ZEROES) {
        auto created = Block::create(DiskFile::open(disk.path, readonly).value(), driver.memory(),
                                     BlockOptions{"serial-123", true, GetParam()});
        // qemu-user (the arm64 unit tests' runner) has no io_uring: Ember refuses the engine at
        // start there, as it does on a kernel without one.
        if (!created.ok() && GetParam() == DiskEngineKind::IoUring && created.error().sys_errno() == ENOSYS)
            GTEST_SKIP() << created.error().message();
        ASSERT_TRUE(created.ok()) << created.error().message();
        block = std::move(created).value();
        block->activate(features);
    }
    void SetUp() override { open(); }

    // Builds header [+ data] + status and completes it; returns {status, used length}.
    std::pair<uint8_t, uint32_t> run(uint32_t type, uint64_t sector, uint64_t data, uint32_t len, bool device_writes) {
        (void)driver.memory().store(header_addr, BlockRequestHeader{type, 0, sector});
        (void)driver.memory().store<uint8_t>(status_addr, 0xee);
        std::vector<FakeDriverQueue::Segment> segments{{header_addr, 16, false}};
        if (len)
            segments.push_back({data, len, device_writes});
        segments.push_back({status_addr, 1, true});
        DescriptorChain chain;
        auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
        driver.add_chain(segments);
        EXPECT_TRUE(queue.pop(chain).value());
        const uint32_t used = block->complete(chain);
        return {driver.memory().load<uint8_t>(status_addr).value(), used};
    }
};

TEST_P(BlockTest, ReadCopiesSectorsAndReportsLength) {
    const uint64_t buf = driver.alloc(1024);
    auto [status, used] = run(blk::T_IN, 2, buf, 1024, true);
    EXPECT_EQ(status, blk::S_OK);
    EXPECT_EQ(used, 1025u);
    EXPECT_EQ(driver.memory().load<uint8_t>(buf).value(), (2 * 512) % 251);
    EXPECT_EQ(driver.memory().load<uint8_t>(buf + 1023).value(), (2 * 512 + 1023) % 251);
}

TEST_P(BlockTest, WriteReachesTheFile) {
    const uint64_t buf = driver.alloc(512);
    (void)driver.memory().fill(buf, 0x5a, 512);
    EXPECT_EQ(run(blk::T_OUT, 3, buf, 512, false).first, blk::S_OK);
    auto contents = disk.contents();
    EXPECT_EQ(contents[3 * 512], 0x5a);
    EXPECT_EQ(contents[4 * 512 - 1], 0x5a);
    EXPECT_EQ(contents[4 * 512], (4 * 512) % 251);
}

TEST_P(BlockTest, CountersCountCompletedRequestsAndErrors) {
    auto value = [&](std::string_view name) {
        for (const auto& c : block->counters())
            if (c.name == name)
                return c.value;
        ADD_FAILURE() << "no counter " << name;
        return uint64_t{0};
    };
    EXPECT_EQ(run(blk::T_IN, 0, driver.alloc(1024), 1024, true).first, blk::S_OK);
    EXPECT_EQ(run(blk::T_OUT, 0, driver.alloc(512), 512, false).first, blk::S_OK);
    EXPECT_EQ(run(blk::T_FLUSH, 0, 0, 0, false).first, blk::S_OK);
    EXPECT_EQ(run(blk::T_IN, 64, driver.alloc(512), 512, true).first, blk::S_IOERR);
    EXPECT_EQ(value("read_ops"), 1u);
    EXPECT_EQ(value("read_bytes"), 1024u);
    EXPECT_EQ(value("write_ops"), 1u);
    EXPECT_EQ(value("write_bytes"), 512u);
    EXPECT_EQ(value("flush_ops"), 1u);
    EXPECT_EQ(value("errors"), 1u);
}

// §5.2.6.1: requests beyond capacity fail with IOERR.
TEST_P(BlockTest, ReadPastCapacityIsIoError) {
    EXPECT_EQ(run(blk::T_IN, 64, driver.alloc(512), 512, true).first, blk::S_IOERR);
    EXPECT_EQ(run(blk::T_IN, 63, driver.alloc(1024), 1024, true).first, blk::S_IOERR);
    EXPECT_EQ(run(blk::T_IN, UINT64_MAX, driver.alloc(512), 512, true).first, blk::S_IOERR);
}

TEST_P(BlockTest, DataNotAMultipleOfSectorsIsIoError) {
    EXPECT_EQ(run(blk::T_IN, 0, driver.alloc(100), 100, true).first, blk::S_IOERR);
    EXPECT_EQ(run(blk::T_OUT, 0, driver.alloc(700), 700, false).first, blk::S_IOERR);
}

TEST_P(BlockTest, UnknownTypeIsUnsupported) {
    EXPECT_EQ(run(0x77, 0, 0, 0, false).first, blk::S_UNSUPP);
}

TEST_P(BlockTest, ShortHeaderIsIoError) {
    DescriptorChain chain;
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    driver.add_chain({{header_addr, 8, false}, {status_addr, 1, true}});
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(block->complete(chain), 1u);
    EXPECT_EQ(driver.memory().load<uint8_t>(status_addr).value(), blk::S_IOERR);
}

TEST_P(BlockTest, ChainWithoutStatusByteCompletesEmpty) {
    DescriptorChain chain;
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    driver.add_chain({{header_addr, 16, false}});
    ASSERT_TRUE(queue.pop(chain).value());
    EXPECT_EQ(block->complete(chain), 0u);
}

// §5.2.6.1: writes to a VIRTIO_BLK_F_RO device fail with IOERR.
TEST_P(BlockTest, WriteToReadOnlyDiskIsIoErrorAndLeavesFile) {
    block.reset();
    open(true);
    EXPECT_TRUE(block->device_features() & blk::F_RO);
    const auto before = disk.contents();
    EXPECT_EQ(run(blk::T_OUT, 0, driver.alloc(512), 512, false).first, blk::S_IOERR);
    EXPECT_EQ(disk.contents(), before);
}

TEST_P(BlockTest, GetIdReturnsSerial) {
    const uint64_t buf = driver.alloc(20);
    auto [status, used] = run(blk::T_GET_ID, 0, buf, 20, true);
    EXPECT_EQ(status, blk::S_OK);
    EXPECT_EQ(used, 21u);
    char id[21] = {};
    (void)driver.memory().read(buf, std::span(reinterpret_cast<uint8_t*>(id), 20));
    EXPECT_STREQ(id, "serial-123");
}

TEST_P(BlockTest, FlushSucceeds) { EXPECT_EQ(run(blk::T_FLUSH, 0, 0, 0, false).first, blk::S_OK); }

TEST_P(BlockTest, WriteZeroesZeroesTheRange) {
    const uint64_t seg = driver.alloc(16);
    (void)driver.memory().store(seg, BlockDiscardSegment{1, 2, 0});
    EXPECT_EQ(run(blk::T_WRITE_ZEROES, 0, seg, 16, false).first, blk::S_OK);
    auto contents = disk.contents();
    EXPECT_EQ(contents[512], 0);
    EXPECT_EQ(contents[3 * 512 - 1], 0);
    EXPECT_EQ(contents[3 * 512], (3 * 512) % 251);
}

TEST_P(BlockTest, DiscardWithUnknownFlagsIsUnsupported) {
    const uint64_t seg = driver.alloc(16);
    (void)driver.memory().store(seg, BlockDiscardSegment{1, 2, 1});
    EXPECT_EQ(run(blk::T_DISCARD, 0, seg, 16, false).first, blk::S_UNSUPP);
}

TEST_P(BlockTest, DiscardPastCapacityIsIoError) {
    const uint64_t seg = driver.alloc(16);
    (void)driver.memory().store(seg, BlockDiscardSegment{60, 8, 0});
    EXPECT_EQ(run(blk::T_DISCARD, 0, seg, 16, false).first, blk::S_IOERR);
}

TEST_P(BlockTest, DiscardNotNegotiatedIsUnsupported) {
    block.reset();
    open(false, 0);
    const uint64_t seg = driver.alloc(16);
    (void)driver.memory().store(seg, BlockDiscardSegment{1, 1, 0});
    EXPECT_EQ(run(blk::T_DISCARD, 0, seg, 16, false).first, blk::S_UNSUPP);
}

TEST_P(BlockTest, ConfigReportsCapacityAndBlockSize) {
    uint64_t capacity = 0;
    block->read_config(0, std::span(reinterpret_cast<uint8_t*>(&capacity), 8));
    EXPECT_EQ(capacity, 64u);
    uint32_t blk_size = 0;
    block->read_config(20, std::span(reinterpret_cast<uint8_t*>(&blk_size), 4));
    EXPECT_EQ(blk_size, 512u);
}

// A batch mixing every request kind, as a driver with a full queue sends it.
TEST_P(BlockTest, BatchOfRequestsCompletesInOrderWithEachStatus) {
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    struct Req {
        uint32_t type;
        uint64_t sector;
        uint32_t len;
        bool device_writes;
        uint8_t want;
    };
    const Req reqs[] = {{blk::T_OUT, 5, 1024, false, blk::S_OK},  {blk::T_IN, 9, 1024, true, blk::S_OK},
                        {blk::T_FLUSH, 0, 0, false, blk::S_OK},   {blk::T_IN, 64, 512, true, blk::S_IOERR},
                        {0x99, 0, 0, false, blk::S_UNSUPP},       {blk::T_IN, 0, 512, true, blk::S_OK}};
    std::vector<uint64_t> status_at, data_at;
    uint16_t slot = 0;
    for (const Req& r : reqs) {
        const uint64_t header = driver.alloc(16), data = driver.alloc(r.len ? r.len : 1), status = driver.alloc(1);
        (void)driver.memory().store(header, BlockRequestHeader{r.type, 0, r.sector});
        if (r.type == blk::T_OUT)
            (void)driver.memory().fill(data, 0xc3, r.len);
        std::vector<FakeDriverQueue::Segment> segments{{header, 16, false}};
        if (r.len)
            segments.push_back({data, r.len, r.device_writes});
        segments.push_back({status, 1, true});
        driver.add_chain(segments, slot);
        slot = static_cast<uint16_t>(slot + segments.size());
        status_at.push_back(status);
        data_at.push_back(data);
    }
    ASSERT_TRUE(block->process_queue(0, queue).ok());
    ASSERT_EQ(driver.used_idx(), std::size(reqs));
    for (size_t i = 0; i < std::size(reqs); ++i)
        EXPECT_EQ(driver.memory().load<uint8_t>(status_at[i]).value(), reqs[i].want) << "request " << i;
    // Requests in one batch may run concurrently (io_uring), so no read-after-write inside it.
    EXPECT_EQ(driver.memory().load<uint8_t>(data_at[1]).value(), (9 * 512) % 251);
    EXPECT_EQ(disk.contents()[5 * 512 + 1023], 0xc3);
    EXPECT_EQ(driver.used_elem(1).len, 1025u);
    EXPECT_EQ(driver.used_elem(3).len, 1u);  // failed read: status only
}

// One call serves at most its budget, so a flooding driver cannot monopolise the event loop.
TEST_P(BlockTest, ProcessQueueStopsAtItsBudget) {
    static_assert(Block::BATCH * Block::BATCHES_PER_CALL < 256);
    TempDisk other;
    FakeDriverQueue big(256, 4ull << 20);
    auto created = Block::create(DiskFile::open(other.path, false).value(), big.memory(),
                                 BlockOptions{"s", true, GetParam()});
    ASSERT_TRUE(created.ok());
    auto queue = Virtqueue::create(big.memory(), big.layout(), false, false).value();
    const uint64_t header = big.alloc(16), status = big.alloc(1);
    (void)big.memory().store(header, BlockRequestHeader{blk::T_FLUSH, 0, 0});
    for (int i = 0; i < 256; ++i)  // a full ring of flushes, all through descriptors 0-1
        big.add_chain({{header, 16, false}, {status, 1, true}});
    ASSERT_TRUE((*created)->process_queue(0, queue).ok());
    EXPECT_EQ(big.used_idx(), Block::BATCH * Block::BATCHES_PER_CALL);
    EXPECT_TRUE(queue.has_available());
    ASSERT_TRUE((*created)->process_queue(0, queue).ok());
    EXPECT_EQ(big.used_idx(), 256);
    EXPECT_FALSE(queue.has_available());
}
// num_queues=N: N request queues, VIRTIO_BLK_F_MQ offered and num_queues in the
// configuration (§5.2.4); every queue serves requests. One queue: no F_MQ, num_queues 1.
TEST_P(BlockTest, MultiqueueOffersMqAndServesEveryQueue) {
    auto num_queues = [](const Block& b) {
        uint16_t n = 0;
        b.read_config(34, std::span(reinterpret_cast<uint8_t*>(&n), 2));
        return n;
    };
    EXPECT_EQ(block->queue_count(), 1u);
    EXPECT_EQ(block->device_features() & blk::F_MQ, 0u);
    EXPECT_EQ(num_queues(*block), 1);
    TempDisk other;  // the fixture's block holds its disk's lock
    BlockOptions options{"s", true, GetParam()};
    options.num_queues = 4;
    auto created = Block::create(DiskFile::open(other.path, false).value(), driver.memory(), options);
    ASSERT_TRUE(created.ok()) << created.error().message();
    Block& mq = **created;
    EXPECT_EQ(mq.queue_count(), 4u);
    EXPECT_NE(mq.device_features() & blk::F_MQ, 0u);
    EXPECT_EQ(num_queues(mq), 4);
    mq.activate(blk::F_MQ);
    const uint64_t data = driver.alloc(512);
    (void)driver.memory().store(header_addr, BlockRequestHeader{blk::T_IN, 0, 5});
    driver.add_chain({{header_addr, 16, false}, {data, 512, true}, {status_addr, 1, true}});
    auto queue = Virtqueue::create(driver.memory(), driver.layout(), false, false).value();
    ASSERT_TRUE(mq.process_queue(3, queue).ok());
    EXPECT_EQ(driver.used_idx(), 1);
    EXPECT_EQ(driver.memory().load<uint8_t>(status_addr).value(), blk::S_OK);
    EXPECT_EQ(driver.memory().load<uint8_t>(data).value(), (5 * 512) % 251);
    created = Error("released");  // and its lock with it
    for (uint16_t bad : {0, blk::MAX_QUEUES + 1}) {
        options.num_queues = bad;
        EXPECT_FALSE(Block::create(DiskFile::open(other.path, false).value(), driver.memory(), options).ok()) << bad;
    }
}

TEST_P(BlockTest, ChangedDiskServesRequestsWithItsCapacity) {
    TempDisk other(128 * 512);
    ASSERT_TRUE(block->change_disk(DiskFile::open(other.path, false).value()).ok());
    uint64_t capacity = 0;
    block->read_config(0, std::span(reinterpret_cast<uint8_t*>(&capacity), 8));
    EXPECT_EQ(capacity, 128u);
    const uint64_t data = driver.alloc(512);
    EXPECT_EQ(run(blk::T_IN, 100, data, 512, true).first, blk::S_OK);  // past the old 64 sectors
    EXPECT_EQ(driver.memory().load<uint8_t>(data).value(), (100 * 512) % 251);
    const std::vector<uint8_t> before = disk.contents();
    (void)driver.memory().store<uint8_t>(data, 0x5a);
    EXPECT_EQ(run(blk::T_OUT, 0, data, 512, false).first, blk::S_OK);
    EXPECT_EQ(other.contents()[0], 0x5a);
    EXPECT_EQ(disk.contents(), before);  // the old file is left alone
}

TEST_P(BlockTest, ChangeRefusesAnotherReadOnlyModeAndKeepsTheDisk) {
    TempDisk other(128 * 512);
    EXPECT_FALSE(block->change_disk(DiskFile::open(other.path, true).value()).ok());
    EXPECT_EQ(block->disk().size(), 64u * 512);
}

TEST_P(BlockTest, ChangeWithoutADiskRereadsTheSize) {
    ASSERT_EQ(::truncate(disk.path.c_str(), 96 * 512), 0);
    ASSERT_TRUE(block->change_disk(std::nullopt).ok());
    EXPECT_EQ(block->disk().size(), 96u * 512);
    ASSERT_EQ(::truncate(disk.path.c_str(), 96 * 512 + 100), 0);
    EXPECT_FALSE(block->change_disk(std::nullopt).ok());  // not whole sectors: the old size stays
    EXPECT_EQ(block->disk().size(), 96u * 512);
}

#ifdef EMBER_NO_IO_URING  // a build without liburing (EMBER_PORTABLE)
INSTANTIATE_TEST_SUITE_P(Engines, BlockTest, ::testing::Values(DiskEngineKind::Sync),
#else
INSTANTIATE_TEST_SUITE_P(Engines, BlockTest, ::testing::Values(DiskEngineKind::Sync, DiskEngineKind::IoUring),
#endif
                         [](const auto& info) { return info.param == DiskEngineKind::Sync ? "sync" : "io_uring"; });

TEST(DiskFile, RejectsSizeNotMultipleOfSector) {
    TempDisk odd(1000);
    auto disk = DiskFile::open(odd.path, false);
    ASSERT_FALSE(disk.ok());
    EXPECT_NE(disk.error().message().find("not a multiple of 512"), std::string::npos);
}

TEST(DiskFile, SecondWriterIsRefusedByTheLock) {
    TempDisk file;
    auto first = DiskFile::open(file.path, false);
    ASSERT_TRUE(first.ok());
    auto second = DiskFile::open(file.path, false);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.error().message().find("locked by another process"), std::string::npos);
    EXPECT_FALSE(DiskFile::open(file.path, true).ok());  // a reader waits for the writer too
}

TEST(DiskFile, KnowsItsOwnPath) {
    TempDisk file, other;
    auto disk = DiskFile::open(file.path, false);
    ASSERT_TRUE(disk.ok());
    EXPECT_TRUE(disk->is(file.path).value());
    EXPECT_FALSE(disk->is(other.path).value());
    EXPECT_FALSE(disk->is("/nonexistent/disk.img").ok());
}

TEST(DiskFile, ReadersShareTheLock) {
    TempDisk file;
    auto first = DiskFile::open(file.path, true);
    auto second = DiskFile::open(file.path, true);
    EXPECT_TRUE(first.ok());
    EXPECT_TRUE(second.ok());
}

}  // namespace
}  // namespace vmm::virtio
