#include "vmm/jailer/cgroups.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace vmm::jailer {
namespace {

constexpr const char* MOUNTS =
    "sysfs /sys sysfs rw,nosuid 0 0\n"
    "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,nosuid,nodev,noexec,relatime,nsdelegate 0 0\n"
    "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,nosuid,nodev,noexec,relatime,cpu,cpuacct 0 0\n"
    "cgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n"
    "cgroup /sys/fs/cgroup/cpuset cgroup rw,nosuid,nodev,noexec,relatime,cpuset 0 0\n";

JailOptions options_with(std::vector<CgroupSetting> settings, int version = 1) {
    JailOptions o;
    o.id = "vm-1";
    o.exec_file = "/usr/bin/ember";
    o.parent_cgroup = "uvms/ember";
    o.cgroup_version = version;
    o.cgroups = std::move(settings);
    return o;
}

TEST(CgroupMounts, FindsV1ControllersAndTheV2Hierarchy) {
    auto mounts = parse_cgroup_mounts(MOUNTS);
    ASSERT_EQ(mounts.size(), 4u);
    EXPECT_TRUE(mounts[0].v2);
    EXPECT_EQ(mounts[0].path, "/sys/fs/cgroup/unified");
    EXPECT_FALSE(mounts[1].v2);
    EXPECT_EQ(mounts[1].path, "/sys/fs/cgroup/cpu,cpuacct");
    EXPECT_NE(std::find(mounts[1].controllers.begin(), mounts[1].controllers.end(), "cpuacct"),
              mounts[1].controllers.end());
}

TEST(InstanceCgroups, OneLeafPerV1HierarchyNamed) {
    auto cgroups = InstanceCgroups::plan(
        options_with({{"cpu.shares", "512"}, {"cpuacct.usage", "0"}, {"memory.limit_in_bytes", "1G"}}),
        parse_cgroup_mounts(MOUNTS));
    ASSERT_TRUE(cgroups.ok()) << cgroups.error().message();
    EXPECT_EQ(cgroups->leaves(), (std::vector<std::string>{"/sys/fs/cgroup/cpu,cpuacct/uvms/ember/vm-1",
                                                           "/sys/fs/cgroup/memory/uvms/ember/vm-1"}));
}

TEST(InstanceCgroups, NoSettingsNoCgroup) {
    auto cgroups = InstanceCgroups::plan(options_with({}), parse_cgroup_mounts(MOUNTS));
    ASSERT_TRUE(cgroups.ok());
    EXPECT_TRUE(cgroups->leaves().empty());
}

TEST(InstanceCgroups, AControllerNoHierarchyHoldsIsNamed) {
    auto cgroups = InstanceCgroups::plan(options_with({{"pids.max", "10"}}), parse_cgroup_mounts(MOUNTS));
    ASSERT_FALSE(cgroups.ok());
    EXPECT_EQ(cgroups.error().message(), "--cgroup pids.max: no cgroup v1 hierarchy holds the 'pids' controller");
}

// A v2 hierarchy in a temporary folder: the controllers it offers decide.
class FakeV2 : public ::testing::Test {
protected:
    void SetUp() override {
        char pattern[] = "/tmp/ember-cgroup-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        m_root = pattern;
        std::ofstream(m_root + "/cgroup.controllers") << "cpuset cpu io memory pids\n";
        std::ofstream(m_root + "/cgroup.subtree_control") << "\n";
    }
    void TearDown() override { std::system(("rm -rf " + m_root).c_str()); }
    std::string mounts() const { return "cgroup2 " + m_root + " cgroup2 rw 0 0\n"; }
    std::string m_root;
};

TEST_F(FakeV2, OfferedControllersPlanOneLeaf) {
    auto cgroups = InstanceCgroups::plan(options_with({{"cpu.max", "20000 100000"}, {"memory.max", "1G"}}, 2),
                                         parse_cgroup_mounts(mounts()));
    ASSERT_TRUE(cgroups.ok()) << cgroups.error().message();
    EXPECT_EQ(cgroups->leaves(), std::vector<std::string>{m_root + "/uvms/ember/vm-1"});
    EXPECT_EQ(cgroups->existing_leaf(), "");
}

TEST_F(FakeV2, AControllerNotOfferedIsRefused) {
    auto cgroups = InstanceCgroups::plan(options_with({{"hugetlb.2MB.max", "0"}}, 2), parse_cgroup_mounts(mounts()));
    ASSERT_FALSE(cgroups.ok());
    EXPECT_NE(cgroups.error().message().find("offers no 'hugetlb' controller"), std::string::npos);
}

TEST_F(FakeV2, AFailedSettingTakesDownWhatWasMade) {
    auto cgroups = InstanceCgroups::plan(options_with({{"memory.max", "1G"}}, 2), parse_cgroup_mounts(mounts()));
    ASSERT_TRUE(cgroups.ok());
    // The folders it makes are plain ones, without the files a cgroup has: a step fails.
    auto created = cgroups->create();
    ASSERT_FALSE(created.ok());
    struct stat st;
    EXPECT_NE(::stat((m_root + "/uvms").c_str(), &st), 0) << "the parent it made is still there";
}

TEST_F(FakeV2, AnExistingLeafMeansTheIdIsInUse) {
    ASSERT_EQ(::mkdir((m_root + "/uvms").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((m_root + "/uvms/ember").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((m_root + "/uvms/ember/vm-1").c_str(), 0755), 0);
    auto cgroups = InstanceCgroups::plan(options_with({{"memory.max", "1G"}}, 2), parse_cgroup_mounts(mounts()));
    ASSERT_TRUE(cgroups.ok());
    EXPECT_EQ(cgroups->existing_leaf(), m_root + "/uvms/ember/vm-1");
}

}  // namespace
}  // namespace vmm::jailer
