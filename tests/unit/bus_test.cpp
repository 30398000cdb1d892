#include "vmm/bus.h"

#include <gtest/gtest.h>

#include <vector>

namespace vmm {
namespace {

class RecordingDevice : public BusDevice {
public:
    void read(uint64_t offset, std::span<uint8_t> data) override {
        reads.push_back(offset);
        zero_filled = std::all_of(data.begin(), data.end(), [](uint8_t b) { return b == 0; });
        data[0] = 0x5a;
    }
    void write(uint64_t offset, std::span<const uint8_t> data) override {
        writes.push_back(offset);
        last_write.assign(data.begin(), data.end());
    }
    std::string_view name() const override { return "recorder"; }

    std::vector<uint64_t> reads, writes;
    std::vector<uint8_t> last_write;
    bool zero_filled = false;
};

TEST(Bus, DispatchesWithOffsetRelativeToBase) {
    Bus bus;
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(0x3f8, 8, dev).ok());
    uint8_t byte = 0x41;
    EXPECT_TRUE(bus.write(0x3fd, std::span(&byte, 1)));
    EXPECT_EQ(dev->writes, std::vector<uint64_t>{5});
    EXPECT_EQ(dev->last_write, std::vector<uint8_t>{0x41});
}

TEST(Bus, ReadBufferIsZeroFilledBeforeDispatch) {
    Bus bus;
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(0x1000, 0x100, dev).ok());
    std::array<uint8_t, 4> data{0xff, 0xff, 0xff, 0xff};
    EXPECT_TRUE(bus.read(0x1000, data));
    EXPECT_TRUE(dev->zero_filled);
    EXPECT_EQ(data[0], 0x5a);
}

TEST(Bus, UnmappedReadIsZeroAndReportedUnhandled) {
    Bus bus;
    std::array<uint8_t, 2> data{0xff, 0xff};
    EXPECT_FALSE(bus.read(0x80, data));
    EXPECT_EQ(data[0], 0);
    EXPECT_EQ(data[1], 0);
}

TEST(Bus, AccessMustFitTheDeviceEntirely) {
    Bus bus;
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(0x100, 4, dev).ok());
    std::array<uint8_t, 4> data{};
    EXPECT_FALSE(bus.write(0x102, data));  // last two bytes fall outside
    EXPECT_TRUE(dev->writes.empty());
    EXPECT_TRUE(bus.write(0x100, data));
}

TEST(Bus, AccessWrappingPastTopOfAddressSpaceIsRejected) {
    Bus bus;
    auto dev = std::make_shared<RecordingDevice>();
    ASSERT_TRUE(bus.insert(UINT64_MAX - 0xf, 0x10, dev).ok());
    std::array<uint8_t, 4> data{};
    EXPECT_FALSE(bus.read(UINT64_MAX - 1, data));
    EXPECT_TRUE(bus.read(UINT64_MAX - 3, data));
}

TEST(Bus, InsertRejectsZeroLengthWrapAndOverlap) {
    Bus bus;
    auto dev = std::make_shared<RecordingDevice>();
    EXPECT_FALSE(bus.insert(0x10, 0, dev).ok());
    EXPECT_FALSE(bus.insert(UINT64_MAX, 2, dev).ok());
    ASSERT_TRUE(bus.insert(0x100, 0x10, dev).ok());
    EXPECT_FALSE(bus.insert(0x10f, 1, dev).ok());   // overlaps the end
    EXPECT_FALSE(bus.insert(0xf0, 0x11, dev).ok());  // overlaps the start
    EXPECT_FALSE(bus.insert(0x0, 0x1000, dev).ok()); // covers it
    EXPECT_TRUE(bus.insert(0x110, 1, dev).ok());     // adjacent is fine
    EXPECT_TRUE(bus.insert(0xff, 1, dev).ok());
    EXPECT_EQ(bus.size(), 3u);
}

}  // namespace
}  // namespace vmm
