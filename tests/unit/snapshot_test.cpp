#include "vmm/snapshot.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace vmm {
namespace {

TEST(Snapshot, ConfigRoundTripsWithTheHostSideFromTheRestoringProcess) {
    VmConfig config;
    config.cpus = 3;
    config.memory = 96ull << 20;
    config.pit = false;
    config.debug_exit = true;
    config.rng = false;
    config.cpu_template = arch::CpuTemplate::Baseline;
    config.disks.push_back({"root", "/images/root.ext4", true, "SER1", DiskConfig::Cache::Unsafe, DiskConfig::Engine::Sync});
    config.serial = {ConsoleConfig::Mode::File, "/old/serial.log"};
    NetConfig nic;
    nic.id = "eth0";
    nic.tap = "tap5";
    nic.mac = MacAddress{0x02, 1, 2, 3, 4, 5};
    nic.ip = 0x0100000a;
    nic.mask = 0x00ffffff;
    nic.queues = 2;
    config.nets.push_back(nic);
    StateEncoder out;
    encode_config(config, out);
    const auto bytes = out.take();

    VmConfig base;
    base.serial = {ConsoleConfig::Mode::File, "/new/serial.log"};
    base.kvm_device = "/dev/kvm-other";
    base.cpus = 1;
    StateDecoder in(bytes, "config");
    const VmConfig back = decode_config(in, base).value();
    EXPECT_TRUE(in.finish().ok());
    EXPECT_EQ(back.cpus, 3u);
    EXPECT_EQ(back.memory, 96ull << 20);
    EXPECT_FALSE(back.pit);
    EXPECT_TRUE(back.debug_exit);
    EXPECT_FALSE(back.rng);
    EXPECT_EQ(back.cpu_template, arch::CpuTemplate::Baseline);
    ASSERT_EQ(back.disks.size(), 1u);
    EXPECT_EQ(back.disks[0].id, "root");
    EXPECT_EQ(back.disks[0].path, "/images/root.ext4");
    EXPECT_TRUE(back.disks[0].readonly);
    EXPECT_EQ(back.disks[0].serial, "SER1");
    EXPECT_EQ(back.disks[0].cache, DiskConfig::Cache::Unsafe);
    ASSERT_EQ(back.nets.size(), 1u);
    EXPECT_EQ(back.nets[0].id, "eth0");
    EXPECT_EQ(back.nets[0].tap, "tap5");
    EXPECT_EQ(back.nets[0].mac, nic.mac) << "the guest keeps the address it knows";
    EXPECT_EQ(back.nets[0].ip, nic.ip);
    EXPECT_EQ(back.nets[0].mask, nic.mask);
    EXPECT_EQ(back.nets[0].queues, 2u);
    EXPECT_EQ(back.serial.path, "/new/serial.log") << "the host side is the restoring process's";
    EXPECT_EQ(back.kvm_device, "/dev/kvm-other");
}

TEST(Snapshot, AConsoleComesBackWithTheRestoringProcesssHostSide) {
    VmConfig config;
    config.console = {ConsoleConfig::Mode::File, "/old/console.log"};
    StateEncoder out;
    encode_config(config, out);
    const auto bytes = out.take();
    VmConfig base;
    StateDecoder plain(bytes, "config");
    const VmConfig discarded = decode_config(plain, base).value();
    EXPECT_EQ(discarded.console.mode, ConsoleConfig::Mode::File);
    EXPECT_EQ(discarded.console.path, "/dev/null") << "without --console the output goes nowhere";
    base.console = {ConsoleConfig::Mode::Tty, {}};
    StateDecoder given(bytes, "config");
    EXPECT_EQ(decode_config(given, base)->console.mode, ConsoleConfig::Mode::Tty);
    VmConfig with_vsock;
    with_vsock.vsock = VsockConfig{"v0", 7, "/run/v.sock"};
    StateEncoder vsock_out;
    encode_config(with_vsock, vsock_out);
    const auto vsock_bytes = vsock_out.take();
    StateDecoder vsock_in(vsock_bytes, "config");
    const VmConfig vsock_back = decode_config(vsock_in, base).value();
    ASSERT_TRUE(vsock_back.vsock.has_value());
    EXPECT_EQ(vsock_back.vsock->id, "v0");
    EXPECT_EQ(vsock_back.vsock->cid, 7u);
    EXPECT_EQ(vsock_back.vsock->uds_path, "/run/v.sock");
    VmConfig none;
    StateEncoder none_out;
    encode_config(none, none_out);
    const auto none_bytes = none_out.take();
    StateDecoder without(none_bytes, "config");
    EXPECT_EQ(decode_config(without, base)->console.mode, ConsoleConfig::Mode::Off) << "no device, no console";
}

TEST(Snapshot, DevicesWithStateOfTheirOwnAreRefusedByName) {
    VmConfig config;
    EXPECT_TRUE(check_snapshottable(config).ok());
    config.console.mode = ConsoleConfig::Mode::File;
    EXPECT_TRUE(check_snapshottable(config).ok()) << "a console's state is saved";
    config.vsock = VsockConfig{};
    EXPECT_TRUE(check_snapshottable(config).ok()) << "a vsock device comes back with a transport reset";
    config.filesystems.push_back(FsConfig{});
    auto fs = check_snapshottable(config);
    ASSERT_FALSE(fs.ok());
    EXPECT_NE(fs.error().message().find("a virtio-fs device"), std::string::npos);
    config = {};
    NetConfig inherited;
    inherited.id = "n";
    inherited.fd = 5;
    config.nets.push_back(inherited);
    EXPECT_NE(check_snapshottable(config).error().message().find("fd="), std::string::npos);
    config = {};
    config.disks.push_back({"d", "/x", false, "", DiskConfig::Cache::Writeback, DiskConfig::Engine::IoUring});
    EXPECT_NE(check_snapshottable(config).error().message().find("engine=io_uring"), std::string::npos);
}

TEST(Snapshot, AForeignMemoryLayoutIsRefused) {
    const MemoryRegionSpec specs[] = {{0, 2 << 20}};
    auto memory = GuestMemory::create(specs).value();
    StateEncoder out;
    encode_memory_layout(memory, out);
    const auto bytes = out.take();
    StateDecoder same(bytes, "layout");
    EXPECT_TRUE(check_memory_layout(same, {{0, 2 << 20}}).ok());
    StateDecoder other(bytes, "layout");
    EXPECT_FALSE(check_memory_layout(other, {{0, 4 << 20}}).ok());
}

TEST(Snapshot, MemoryFileHoldsEveryRegionAndLeavesZeroPagesAsHoles) {
    const MemoryRegionSpec specs[] = {{0, 4 << 20}, {4ull << 30, 4 << 20}};
    auto memory = GuestMemory::create(specs).value();
    ASSERT_TRUE(memory.store<uint64_t>(0x1000, 0x1111).ok());
    ASSERT_TRUE(memory.store<uint64_t>((4ull << 30) + 0x2008, 0x2222).ok());
    char name[] = "/tmp/ember-snapshot-mem-XXXXXX";
    const int fd = ::mkstemp(name);
    ASSERT_GE(fd, 0);
    ::close(fd);
    ASSERT_TRUE(write_memory_file(memory, name).ok());
    std::ifstream file(name, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), {});
    struct stat st {};
    ASSERT_EQ(::stat(name, &st), 0);
    ::unlink(name);
    ASSERT_EQ(bytes.size(), 8u << 20);
    uint64_t first = 0, second = 0;
    std::memcpy(&first, bytes.data() + 0x1000, 8);
    std::memcpy(&second, bytes.data() + (4 << 20) + 0x2008, 8);
    EXPECT_EQ(first, 0x1111u);
    EXPECT_EQ(second, 0x2222u) << "the second region follows the first";
    EXPECT_LE(st.st_blocks * 512, 64 * 1024) << "two pages written, the rest holes";
}

}  // namespace
}  // namespace vmm
