#include "vmm/vm_config.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

constexpr uint64_t HOST = 16ull << 30;

TEST(VmConfig, ParsesMemorySizes) {
    EXPECT_EQ(parse_memory_size("256M").value(), 256ull << 20);
    EXPECT_EQ(parse_memory_size("1G").value(), 1ull << 30);
    EXPECT_EQ(parse_memory_size("2GiB").value(), 2ull << 30);
    EXPECT_EQ(parse_memory_size("512K").value(), 512ull << 10);
    EXPECT_EQ(parse_memory_size("128").value(), 128ull << 20);
}

TEST(VmConfig, RejectsMalformedMemorySizes) {
    EXPECT_FALSE(parse_memory_size("").ok());
    EXPECT_FALSE(parse_memory_size("M").ok());
    EXPECT_FALSE(parse_memory_size("12X").ok());
    EXPECT_FALSE(parse_memory_size("-5M").ok());
    EXPECT_FALSE(parse_memory_size("99999999999999999999T").ok());
    EXPECT_FALSE(parse_memory_size("20000000T").ok());  // overflows 64 bits
}

TEST(VmConfig, ParsesConsoleModes) {
    EXPECT_EQ(parse_console("tty", "serial")->mode, ConsoleConfig::Mode::Tty);
    EXPECT_EQ(parse_console("off", "serial")->mode, ConsoleConfig::Mode::Off);
    auto file = parse_console("file=/tmp/x.log", "console").value();
    EXPECT_EQ(file.mode, ConsoleConfig::Mode::File);
    EXPECT_EQ(file.path, "/tmp/x.log");
    EXPECT_FALSE(parse_console("file=", "serial").ok());
    auto bad = parse_console("pty", "console");
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error().message(), "console 'pty' is not one of tty, off, file=PATH");
}

TEST(VmConfig, ValidateAcceptsDefaultsWithKernel) {
    VmConfig config;
    config.kernel = "vmlinux";
    EXPECT_TRUE(config.validate(HOST).ok());
}

TEST(VmConfig, ValidateRejectsEachBadValue) {
    VmConfig config;
    config.kernel = "vmlinux";
    EXPECT_FALSE(VmConfig{}.validate(HOST).ok());  // no kernel
    config.cpus = 0;
    EXPECT_FALSE(config.validate(HOST).ok());
    config.cpus = 255;
    EXPECT_FALSE(config.validate(HOST).ok());
    config.cpus = 254;
    EXPECT_TRUE(config.validate(HOST).ok());
    config.memory = 4ull << 20;
    EXPECT_FALSE(config.validate(HOST).ok());
    config.memory = HOST + 4096;
    EXPECT_FALSE(config.validate(HOST).ok());
    config.memory = (64ull << 20) + 512;
    EXPECT_FALSE(config.validate(HOST).ok());
    config.memory = 64ull << 20;
    config.console.mode = ConsoleConfig::Mode::Tty;  // serial is tty by default
    EXPECT_FALSE(config.validate(HOST).ok());
    config.serial.mode = ConsoleConfig::Mode::Off;
    EXPECT_TRUE(config.validate(HOST).ok());
}

// A config with these --disk and --net values, named.
VmConfig with_devices(std::vector<std::string> disks, std::vector<std::string> nets) {
    VmConfig config;
    config.kernel = "vmlinux";
    for (const auto& disk : disks)
        config.disks.push_back(parse_disk(disk).value());
    for (const auto& net : nets)
        config.nets.push_back(parse_net(net).value());
    config.name_devices();
    return config;
}

TEST(VmConfig, DisksAndNicsTakeAnIdOrGetTheirDefault) {
    VmConfig config = with_devices({"id=rootfs,path=a.img", "path=b.img"}, {"tap=t0", "id=uplink,tap=t1"});
    EXPECT_EQ(config.device_ids(), (std::vector<std::string>{"rootfs", "disk1", "net0", "uplink", "rng0"}));
    EXPECT_TRUE(config.validate(HOST).ok());
}

TEST(VmConfig, DeviceIdsMustBeUnique) {
    VmConfig config = with_devices({"id=data,path=a.img"}, {"id=data,tap=t0"});
    auto status = config.validate(HOST);
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message(), "device id 'data' is given twice");
}

TEST(VmConfig, AnExplicitIdMayNotTakeADefaultOrReservedOne) {
    VmConfig config = with_devices({"path=a.img", "id=disk0,path=b.img"}, {});
    EXPECT_FALSE(config.validate(HOST).ok());
    config.disks.pop_back();
    config.disks.push_back(parse_disk("id=rng0,path=b.img").value());
    EXPECT_FALSE(config.validate(HOST).ok());
    config.rng = false;
    EXPECT_TRUE(config.validate(HOST).ok());
}

TEST(VmConfig, DiskQueuesAreOneToSixteen) {
    EXPECT_EQ(parse_disk("path=a").value().num_queues, 1);
    EXPECT_EQ(parse_disk("path=a,num_queues=4").value().num_queues, 4);
    EXPECT_EQ(parse_disk("path=a,num_queues=16").value().num_queues, 16);
    for (const char* bad : {"path=a,num_queues=0", "path=a,num_queues=17", "path=a,num_queues=", "path=a,num_queues=2x",
                            "path=a,num_queues=-1", "path=a,num_queues=70000"})
        EXPECT_FALSE(parse_disk(bad).ok()) << bad;
}

TEST(VmConfig, MalformedIdsAreRefusedWhereTheyAreGiven) {
    for (const char* bad : {"id=,path=a", "id=has space,path=a", "id=a/b,path=a", "id=ünï,path=a"})
        EXPECT_FALSE(parse_disk(bad).ok()) << bad;
    EXPECT_FALSE(parse_disk("id=" + std::string(65, 'x') + ",path=a").ok());
    EXPECT_TRUE(parse_disk("id=" + std::string(64, 'x') + ",path=a").ok());
    EXPECT_FALSE(parse_net("id=a:b,tap=t0").ok());
    EXPECT_TRUE(parse_net("id=eth-0.1_a,tap=t0").ok());
}

}  // namespace
}  // namespace vmm
