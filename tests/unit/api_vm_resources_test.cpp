#include "vmm/api/vm_resources.h"

#include <gtest/gtest.h>

namespace vmm::api {
namespace {

Json parse(const char* text) { return parse_json(text).value(); }

VmResources with_kernel() {
    VmResources resources{VmConfig{}};
    EXPECT_TRUE(resources.put_boot_source(parse(R"({"kernel_image_path": "/dev/null"})")).ok());
    return resources;
}

TEST(ApiVmResourcesTest, MachineConfigPutNeedsBothFieldsPatchChangesOne) {
    VmResources r{VmConfig{}};
    EXPECT_FALSE(r.put_machine_config(parse(R"({"vcpu_count": 2})")).ok());
    ASSERT_TRUE(r.put_machine_config(parse(R"({"vcpu_count": 2, "mem_size_mib": 64})")).ok());
    ASSERT_TRUE(r.patch_machine_config(parse(R"({"mem_size_mib": 96})")).ok());
    EXPECT_EQ(r.machine_config()["vcpu_count"], 2);
    EXPECT_EQ(r.machine_config()["mem_size_mib"], 96);
}

TEST(ApiVmResourcesTest, RefusedMachineConfigChangesNothing) {
    VmResources r{VmConfig{}};
    ASSERT_TRUE(r.put_machine_config(parse(R"({"vcpu_count": 2, "mem_size_mib": 64})")).ok());
    auto status = r.put_machine_config(parse(R"({"vcpu_count": 4, "mem_size_mib": 1})"));
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message().find("too small"), std::string::npos);  // VmConfig's own check
    EXPECT_EQ(r.machine_config()["vcpu_count"], 2);
}

TEST(ApiVmResourcesTest, HugePagesChooseTheMemoryBackend) {
    VmResources r{VmConfig{}};
    ASSERT_TRUE(r.put_machine_config(parse(R"({"vcpu_count": 1, "mem_size_mib": 64, "huge_pages": "2M"})")).ok());
    EXPECT_EQ(r.machine_config()["huge_pages"], "2M");
    EXPECT_EQ(r.vm_config().memory_backend.huge_pages, HugePages::Size2M);
    ASSERT_TRUE(r.patch_machine_config(parse(R"({"vcpu_count": 2})")).ok());
    EXPECT_EQ(r.machine_config()["huge_pages"], "2M") << "a PATCH keeps what it does not name";
    ASSERT_TRUE(r.patch_machine_config(parse(R"({"huge_pages": "Transparent"})")).ok());
    EXPECT_EQ(r.machine_config()["huge_pages"], "Transparent");
    ASSERT_TRUE(r.put_machine_config(parse(R"({"vcpu_count": 1, "mem_size_mib": 64})")).ok());
    EXPECT_EQ(r.machine_config()["huge_pages"], "None") << "a PUT replaces the whole machine config";
    auto odd = r.put_machine_config(parse(R"({"vcpu_count": 1, "mem_size_mib": 65, "huge_pages": "2M"})"));
    ASSERT_FALSE(odd.ok());
    EXPECT_NE(odd.error().message().find("multiple of 2 MiB"), std::string::npos) << odd.error().message();
}

TEST(ApiVmResourcesTest, UnknownFieldsAndWrongTypesAreNamed) {
    VmResources r{VmConfig{}};
    auto unknown = r.put_machine_config(parse(R"({"vcpu_count": 1, "mem_size_mib": 64, "cpus": 2})"));
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().message(), "machine-config: unknown field 'cpus'");
    auto wrong = r.put_machine_config(parse(R"({"vcpu_count": -1, "mem_size_mib": 64})"));
    ASSERT_FALSE(wrong.ok());
    EXPECT_NE(wrong.error().message().find("field 'vcpu_count' must be an integer"), std::string::npos);
    EXPECT_FALSE(r.put_machine_config(parse(R"({"vcpu_count": 1.5, "mem_size_mib": 64})")).ok());
    EXPECT_FALSE(r.put_machine_config(parse(R"([1, 2])")).ok());
}

TEST(ApiVmResourcesTest, RootDriveComesFirstAndIsNamedOnTheCommandLine) {
    VmResources r = with_kernel();
    ASSERT_TRUE(r.put_drive("data", parse(R"({"drive_id": "data", "path_on_host": "/dev/null",
                                              "is_root_device": false})")).ok());
    ASSERT_TRUE(r.put_drive("root", parse(R"({"drive_id": "root", "path_on_host": "/dev/null",
                                              "is_root_device": true, "is_read_only": true})")).ok());
    const VmConfig config = r.vm_config();
    ASSERT_EQ(config.disks.size(), 2u);
    EXPECT_EQ(config.disks[0].id, "root");
    EXPECT_TRUE(config.disks[0].readonly);
    EXPECT_EQ(config.disks[0].cache, DiskConfig::Cache::Unsafe);  // Firecracker's default
    ASSERT_TRUE(config.cmdline.has_value());
    EXPECT_TRUE(config.cmdline->ends_with(" root=/dev/vda ro")) << *config.cmdline;
}

TEST(ApiVmResourcesTest, SecondRootDriveAndMismatchedIdsAreRefused) {
    VmResources r = with_kernel();
    ASSERT_TRUE(r.put_drive("a", parse(R"({"drive_id": "a", "path_on_host": "/dev/null", "is_root_device": true})")).ok());
    EXPECT_FALSE(r.put_drive("b", parse(R"({"drive_id": "b", "path_on_host": "/dev/null", "is_root_device": true})")).ok());
    EXPECT_FALSE(r.put_drive("c", parse(R"({"drive_id": "d", "path_on_host": "/dev/null", "is_root_device": false})")).ok());
    // Replacing the root drive with itself is an update, not a second root.
    EXPECT_TRUE(r.put_drive("a", parse(R"({"drive_id": "a", "path_on_host": "/dev/null", "is_root_device": true})")).ok());
    EXPECT_EQ(r.vm_config().disks.size(), 1u);
}

TEST(ApiVmResourcesTest, RealRateLimitsAreRefusedEmptyOnesAccepted) {
    VmResources r = with_kernel();
    EXPECT_TRUE(r.put_drive("a", parse(R"({"drive_id": "a", "path_on_host": "/dev/null", "is_root_device": false,
        "rate_limiter": {"bandwidth": {"size": 0, "refill_time": 0}}})")).ok());
    EXPECT_FALSE(r.put_drive("a", parse(R"({"drive_id": "a", "path_on_host": "/dev/null", "is_root_device": false,
        "rate_limiter": {"ops": {"size": 100, "refill_time": 1000}}})")).ok());
}

TEST(ApiVmResourcesTest, DocumentAppliesEverySectionAndNeedsABootSource) {
    VmResources r{VmConfig{}};
    EXPECT_FALSE(r.apply_document(parse(R"({"machine-config": {"vcpu_count": 1, "mem_size_mib": 64}})")).ok());
    ASSERT_TRUE(r.apply_document(parse(R"({
        "boot-source": {"kernel_image_path": "/dev/null", "boot_args": "console=ttyS0"},
        "machine-config": {"vcpu_count": 3, "mem_size_mib": 128},
        "drives": [{"drive_id": "rootfs", "path_on_host": "/dev/null", "is_root_device": false}],
        "network-interfaces": []})")).ok());
    const VmConfig config = r.vm_config();
    EXPECT_EQ(config.cpus, 3u);
    EXPECT_EQ(config.memory, 128ull << 20);
    EXPECT_EQ(config.cmdline, "console=ttyS0");
    ASSERT_EQ(config.disks.size(), 1u);
    EXPECT_EQ(r.full_config()["drives"][0]["drive_id"], "rootfs");
}

TEST(ApiVmResourcesTest, UnsupportedDocumentSectionsAreRefusedByName) {
    VmResources r{VmConfig{}};
    auto status = r.apply_document(parse(R"({"boot-source": {"kernel_image_path": "/dev/null"},
                                             "balloon": {"amount_mib": 0, "deflate_on_oom": false}})"));
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message().find("\"balloon\" is not supported yet"), std::string::npos);
}

TEST(ApiVmResourcesTest, VsockSectionGivesTheCidAndSocketPath) {
    VmResources r{VmConfig{}};
    ASSERT_TRUE(r.apply_document(parse(R"({"boot-source": {"kernel_image_path": "/dev/null"},
                                           "vsock": {"guest_cid": 7, "uds_path": "/tmp/v.sock"}})")).ok());
    const VmConfig config = r.vm_config();
    ASSERT_TRUE(config.vsock.has_value());
    EXPECT_EQ(config.vsock->cid, 7u);
    EXPECT_EQ(config.vsock->uds_path, "/tmp/v.sock");
    EXPECT_EQ(r.full_config()["vsock"]["guest_cid"], 7);
    EXPECT_EQ(r.full_config()["vsock"]["uds_path"], "/tmp/v.sock");
}

TEST(ApiVmResourcesTest, VsockCidBelowThreeAndMissingFieldsAreRefused) {
    VmResources r{VmConfig{}};
    auto low = r.put_vsock(parse(R"({"guest_cid": 2, "uds_path": "/tmp/v.sock"})"));
    ASSERT_FALSE(low.ok());
    EXPECT_NE(low.error().message().find("guest CID 2 is reserved"), std::string::npos);
    EXPECT_FALSE(r.put_vsock(parse(R"({"guest_cid": 3})")).ok());
    EXPECT_FALSE(r.put_vsock(parse(R"({"uds_path": "/tmp/v.sock"})")).ok());
    EXPECT_FALSE(r.put_vsock(parse(R"({"guest_cid": 3, "uds_path": "/tmp/v.sock", "other": 1})")).ok());
    EXPECT_FALSE(r.vm_config().vsock.has_value()) << "a refused PUT changes nothing";
}

TEST(ApiVmResourcesTest, MissingKernelFileIsRefusedAtThePut) {
    VmResources r{VmConfig{}};
    auto status = r.put_boot_source(parse(R"({"kernel_image_path": "/nonexistent/kernel"})"));
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind(), ErrorKind::NotFound);
}

TEST(ApiVmResourcesTest, DrivesStopAtTheVirtioSlots) {
    VmResources r = with_kernel();
    Status status;
    size_t added = 0;
    for (; added < 1000; ++added) {
        const std::string id = "d" + std::to_string(added);
        status = r.put_drive(id, parse_json(R"({"drive_id": ")" + id +
                                            R"(", "path_on_host": "/dev/null", "is_root_device": false})").value());
        if (!status.ok())
            break;
    }
    ASSERT_FALSE(status.ok());
    EXPECT_NE(status.error().message().find("virtio device slots"), std::string::npos);
    EXPECT_LT(added, 64u);
    EXPECT_EQ(r.vm_config().disks.size(), added);
}

}  // namespace
}  // namespace vmm::api
