#include "vmm/jailer/jail_options.h"

#include <sys/resource.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace vmm::jailer {
namespace {

// The jailer's arguments after the program name, with the required ones in front.
std::variant<JailOptions, int> parse(std::vector<std::string> extra, std::string uid = "123") {
    std::vector<std::string> args{"ember-jailer", "--id", "vm-1", "--exec-file", "/usr/bin/ember",
                                  "--uid", uid, "--gid", "100"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    return parse_jailer_cli(static_cast<int>(argv.size()), argv.data());
}

TEST(JailOptions, DefaultsFollowFirecrackersJailer) {
    auto parsed = parse({});
    ASSERT_TRUE(std::holds_alternative<JailOptions>(parsed));
    const auto& o = std::get<JailOptions>(parsed);
    EXPECT_EQ(o.chroot_base, "/srv/jailer");
    EXPECT_EQ(o.cgroup_version, 1);
    EXPECT_EQ(o.parent_cgroup, "ember");
    EXPECT_EQ(o.chroot_dir(), "/srv/jailer/ember/vm-1/root");
    EXPECT_EQ(o.uid, 123u);
    EXPECT_EQ(o.gid, 100u);
    EXPECT_FALSE(o.daemonize);
    EXPECT_FALSE(o.new_pid_ns);
}

TEST(JailOptions, EverythingAfterDoubleDashIsEmbersUntouched) {
    auto parsed = parse({"--cgroup", "cpu.max=20000 100000", "--", "--kernel", "/vmlinux", "--id", "x", "--"});
    ASSERT_TRUE(std::holds_alternative<JailOptions>(parsed));
    const auto& o = std::get<JailOptions>(parsed);
    EXPECT_EQ(o.exec_args, (std::vector<std::string>{"--kernel", "/vmlinux", "--id", "x", "--"}));
    ASSERT_EQ(o.cgroups.size(), 1u);
    EXPECT_EQ(o.cgroups[0].file, "cpu.max");
    EXPECT_EQ(o.cgroups[0].value, "20000 100000");
    EXPECT_EQ(o.cgroups[0].controller(), "cpu");
}

TEST(JailOptions, CgroupsAndLimitsRepeatInOrder) {
    auto parsed = parse({"--cgroup", "memory.max=1G", "--cgroup", "pids.max=64", "--resource-limit", "no-file=512",
                         "--resource-limit", "fsize=1000", "--parent-cgroup", "all/uvms"});
    ASSERT_TRUE(std::holds_alternative<JailOptions>(parsed));
    const auto& o = std::get<JailOptions>(parsed);
    ASSERT_EQ(o.cgroups.size(), 2u);
    EXPECT_EQ(o.cgroups[1].file, "pids.max");
    ASSERT_EQ(o.limits.size(), 2u);
    EXPECT_EQ(o.limits[0].resource, RLIMIT_NOFILE);
    EXPECT_EQ(o.limits[0].value, 512u);
    EXPECT_EQ(o.limits[1].resource, RLIMIT_FSIZE);
    EXPECT_EQ(o.parent_cgroup, "all/uvms");
}

TEST(JailOptions, BadInputIsAUsageError) {
    for (const auto& extra : std::vector<std::vector<std::string>>{
             {"--cgroup-version", "3"}, {"--cgroup", "memory"}, {"--cgroup", "Memory.max=1"},
             {"--cgroup", "memory.max="}, {"--cgroup", "memory.max=1\n2"}, {"--resource-limit", "cpu=1"},
             {"--resource-limit", "fsize=big"}, {"--parent-cgroup", "/abs"}, {"--parent-cgroup", "a/../b"},
             {"--parent-cgroup", "a//b"}, {"--chroot-base-dir", "relative"}, {"--netns", "netns/x"},
             {"--chroot-base-dir", "/srv/../etc"}}) {
        EXPECT_EQ(std::get<int>(parse(extra)), 2) << extra[0] << " " << extra[1];
    }
}

TEST(JailOptions, RootAndOutOfRangeIdsAreRefused) {
    for (const char* uid : {"0", "4294967295", "-1", "abc"})
        EXPECT_EQ(std::get<int>(parse({}, uid)), 2) << uid;
}

TEST(JailOptions, IdsAreLettersDigitsHyphensUpTo64) {
    JailOptions o;
    o.exec_file = "/usr/bin/ember";
    o.parent_cgroup = "ember";
    for (const char* good : {"a", "551e7604-e35c-42b3-b825-416853441234"}) {
        o.id = good;
        EXPECT_TRUE(check_options(o).ok()) << good;
    }
    for (std::string bad : {std::string(""), std::string(65, 'a'), std::string("a_b"), std::string("a/b"),
                            std::string("..")}) {
        o.id = bad;
        EXPECT_FALSE(check_options(o).ok()) << bad;
    }
}

}  // namespace
}  // namespace vmm::jailer
