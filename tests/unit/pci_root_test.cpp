#include "devices/pci/pci_root.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace vmm::pci {
namespace {

// A function with a fixed config pattern and one BAR of 0x100 bytes at 0x1000.
struct FakeFunction : PciFunction {
    void config_read(uint64_t offset, std::span<uint8_t> data) override {
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = static_cast<uint8_t>(offset + i);
        reads.push_back(offset);
    }
    void config_write(uint64_t offset, std::span<const uint8_t> data) override { writes.push_back({offset, data.size()}); }
    bool mmio_read(uint64_t address, std::span<uint8_t> data) override {
        if (address < 0x1000 || address + data.size() > 0x1100)
            return false;
        std::fill(data.begin(), data.end(), 0x5a);
        return true;
    }
    bool mmio_write(uint64_t address, std::span<const uint8_t> data) override {
        if (address < 0x1000 || address + data.size() > 0x1100)
            return false;
        bar_writes.push_back(address);
        return true;
    }
    std::vector<uint64_t> reads;
    std::vector<std::pair<uint64_t, size_t>> writes;
    std::vector<uint64_t> bar_writes;
};

struct PciRootTest : ::testing::Test {
    PciRoot root;
    std::shared_ptr<BusDevice> ports = root.config_ports();
    std::shared_ptr<BusDevice> ecam = root.ecam();

    void set_address(uint32_t value) { ports->write(0, std::span(reinterpret_cast<const uint8_t*>(&value), 4)); }
    uint32_t cf8(uint32_t device, uint32_t reg, uint32_t function = 0) {
        return 0x80000000u | device << 11 | function << 8 | reg;
    }
    uint32_t data32(uint64_t port_offset = 4) {
        uint32_t v = 0;
        ports->read(port_offset, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
    uint32_t ecam32(uint64_t offset) {
        uint32_t v = 0;
        ecam->read(offset, std::span(reinterpret_cast<uint8_t*>(&v), 4));
        return v;
    }
};

TEST_F(PciRootTest, HostBridgeAnswersAtSlotZeroThroughPortsAndEcam) {
    set_address(cf8(0, 0));
    EXPECT_EQ(data32(), 0x00081b36u);
    EXPECT_EQ(ecam32(0), 0x00081b36u);
    set_address(cf8(0, 8));
    EXPECT_EQ(data32() >> 8, 0x060000u);  // host bridge class
}

TEST_F(PciRootTest, ConfigAddressReadsBackWithReservedBitsClear) {
    set_address(0xffffffff);
    uint32_t v = 0;
    ports->read(0, std::span(reinterpret_cast<uint8_t*>(&v), 4));
    EXPECT_EQ(v, 0x80fffffcu);
}

TEST_F(PciRootTest, AbsentDevicesOtherBusesAndDisabledAddressReadAllOnes) {
    set_address(cf8(5, 0));
    EXPECT_EQ(data32(), 0xffffffffu);
    set_address(cf8(0, 0) | 1u << 16);  // bus 1
    EXPECT_EQ(data32(), 0xffffffffu);
    set_address(cf8(0, 0) & ~0x80000000u);
    EXPECT_EQ(data32(), 0xffffffffu);
    set_address(cf8(0, 0, 1));  // function 1 of a single-function device
    EXPECT_EQ(data32(), 0xffffffffu);
    EXPECT_EQ(ecam32(5u << 15), 0xffffffffu);
}

TEST_F(PciRootTest, DataPortBytesReachTheRegisterOffset) {
    auto f = std::make_shared<FakeFunction>();
    ASSERT_EQ(root.add(f).value(), 1);
    set_address(cf8(1, 0x40));
    uint8_t b = 0;
    ports->read(4 + 3, std::span(&b, 1));
    EXPECT_EQ(b, 0x43);
    uint16_t w = 0;
    ports->read(4 + 2, std::span(reinterpret_cast<uint8_t*>(&w), 2));
    EXPECT_EQ(w, 0x4342);
    const uint8_t one = 1;
    ports->write(4 + 1, std::span(&one, 1));
    ASSERT_EQ(f->writes.size(), 1u);
    EXPECT_EQ(f->writes[0], std::make_pair(uint64_t{0x41}, size_t{1}));
}

TEST_F(PciRootTest, MisalignedAccessesNeverReachTheFunction) {
    auto f = std::make_shared<FakeFunction>();
    ASSERT_TRUE(root.add(f).ok());
    uint8_t two[2] = {};
    ecam->read((1u << 15) + 1, two);  // a word at an odd offset
    EXPECT_EQ(two[0], 0xff);
    set_address(cf8(1, 0));
    uint32_t v = 0;
    ports->read(4 + 1, std::span(reinterpret_cast<uint8_t*>(&v), 2));  // crosses no dword but is misaligned
    EXPECT_TRUE(f->reads.empty());
    uint8_t byte = 0;
    ports->write(0, std::span<const uint8_t>(&byte, 1));  // not CONFIG_ADDRESS: ignored
    EXPECT_EQ(root.config_address(), cf8(1, 0));
}

TEST_F(PciRootTest, EcamDecodesDeviceFunctionAndRegister) {
    auto f = std::make_shared<FakeFunction>();
    ASSERT_TRUE(root.add(f).ok());
    EXPECT_EQ(ecam32((1u << 15) + 0x104), 0x07060504u);
    ASSERT_EQ(f->reads.size(), 1u);
    EXPECT_EQ(f->reads[0], 0x104u);
}

TEST_F(PciRootTest, SlotsFillInOrderAndRefuseWhenFull) {
    for (uint8_t slot = 1; slot < PciRoot::SLOTS; ++slot)
        ASSERT_EQ(root.add(std::make_shared<FakeFunction>()).value(), slot);
    EXPECT_FALSE(root.add(std::make_shared<FakeFunction>()).ok());
}

TEST_F(PciRootTest, BarWindowDispatchesByAbsoluteAddress) {
    auto f = std::make_shared<FakeFunction>();
    ASSERT_TRUE(root.add(f).ok());
    auto window = root.bar_window(0x800);
    uint32_t v = 0;
    window->read(0x800, std::span(reinterpret_cast<uint8_t*>(&v), 4));  // 0x1000
    EXPECT_EQ(v, 0x5a5a5a5au);
    window->read(0x100, std::span(reinterpret_cast<uint8_t*>(&v), 4));  // 0x900: nobody's
    EXPECT_EQ(v, 0xffffffffu);
    const uint32_t one = 1;
    window->write(0x810, std::span(reinterpret_cast<const uint8_t*>(&one), 4));
    ASSERT_EQ(f->bar_writes.size(), 1u);
    EXPECT_EQ(f->bar_writes[0], 0x1010u);
}

}  // namespace
}  // namespace vmm::pci
