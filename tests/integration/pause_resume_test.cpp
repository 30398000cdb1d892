// Pause and resume on a running VM: the counter guest is paused and resumed 100 times; while
// paused its output does not grow, and in the end it printed exactly what an undisturbed run
// prints, with the same exit status. Also: a kvmclock guest is told of each pause, a stop while
// paused, and requests on a VM that does not run. Needs /dev/kvm (skipped without) and the counter guest
// (EMBER_GUEST_DIR).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "vmm/machine_state_codec.h"
#include "vmm/vm_builder.h"

namespace vmm {
namespace {

using namespace std::chrono_literals;

std::string guest(const char* name) {
    const char* dir = std::getenv("EMBER_GUEST_DIR");
    return std::string(dir ? dir : ".") + "/" + name;
}

off_t size_of(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

std::string contents(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// Polls `done` until it holds or 30 s pass (the guest's own pace sets how long).
template <typename F>
bool eventually(F done) {
    for (auto until = std::chrono::steady_clock::now() + 30s; std::chrono::steady_clock::now() < until;) {
        if (done())
            return true;
        std::this_thread::sleep_for(100us);
    }
    return done();
}

struct PauseResume : ::testing::Test {
    std::string out = "/tmp/ember-pause-" + std::to_string(::getpid());
    void SetUp() override {
        if (::access("/dev/kvm", R_OK | W_OK) != 0)
            GTEST_SKIP() << "no usable /dev/kvm";
    }
    void TearDown() override {
        ::unlink((out + ".plain").c_str());
        ::unlink((out + ".paused").c_str());
    }
    // The counter guest's exit status, its output in out.plain.
    int run_undisturbed() {
        auto plain = build_vmm(config(out + ".plain"));
        EXPECT_TRUE(plain.ok()) << plain.error().message();
        return plain.ok() ? (*plain)->run() : -1;
    }
    VmConfig config(const std::string& serial) {
        VmConfig c;
        c.kernel = guest("counter.elf");
        c.memory = 64ull << 20;
        c.rng = false;
        c.serial = {ConsoleConfig::Mode::File, serial};
        return c;
    }
};

TEST_F(PauseResume, HundredPausesLeaveTheOutputAndStatusUnchanged) {
    const int plain_status = run_undisturbed();
    auto vm = build_vmm(config(out + ".paused"));
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    Vmm& v = **vm;
    int status = -1;
    std::thread runner([&] { status = v.run(); });
    ASSERT_TRUE(eventually([&] { return size_of(out + ".paused") > 0; }));

    int pauses = 0;
    for (; pauses < 100 && v.state() == Vmm::State::Running; ++pauses) {
        ASSERT_TRUE(v.pause().ok());
        EXPECT_EQ(v.state(), Vmm::State::Paused);
        const off_t at_pause = size_of(out + ".paused");
        std::this_thread::sleep_for(3ms);  // an observation window, not synchronisation
        EXPECT_EQ(size_of(out + ".paused"), at_pause) << "output grew while paused (pause " << pauses << ")";
        ASSERT_TRUE(v.resume().ok());
        // Let the guest make progress before the next pause.
        eventually([&] { return size_of(out + ".paused") > at_pause || v.state() != Vmm::State::Running; });
    }
    runner.join();
    EXPECT_EQ(pauses, 100) << "the guest finished before 100 pauses";
    EXPECT_EQ(status, plain_status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(contents(out + ".paused"), contents(out + ".plain"));
    EXPECT_NE(contents(out + ".plain").find("tick 999\ncounter: done\n"), std::string::npos);
}

// Every 20 ticks: pause, read all of KVM's state of the vCPUs and the VM, write it back,
// resume. The guest must not notice.
TEST_F(PauseResume, MachineStateWrittenBackLeavesTheRunUndisturbed) {
    const int plain_status = run_undisturbed();
    auto vm = build_vmm(config(out + ".paused"));
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    Vmm& v = **vm;
    EXPECT_FALSE(v.save_machine().ok());  // not while it is not paused
    int status = -1;
    std::thread runner([&] { status = v.run(); });
    ASSERT_TRUE(eventually([&] { return size_of(out + ".paused") > 0; }));
    int rounds = 0;
    for (; rounds < 20 && v.state() == Vmm::State::Running; ++rounds) {
        ASSERT_TRUE(v.pause().ok());
        auto machine = v.save_machine();
        ASSERT_TRUE(machine.ok()) << machine.error().message();
        EXPECT_EQ(machine->vcpus.size(), 1u);
        EXPECT_FALSE(machine->vcpus[0].msrs.empty());
        // Through the snapshot's state file: what it carries is all KVM needs back.
        StateFile file;
        encode_machine_state(*machine, file);
        const auto bytes = file.serialize();
        auto parsed = StateFile::parse(bytes, "state file");
        ASSERT_TRUE(parsed.ok()) << parsed.error().message();
        auto decoded = decode_machine_state(*parsed, 254);
        ASSERT_TRUE(decoded.ok()) << decoded.error().message();
        auto restored = v.restore_machine(*decoded);
        ASSERT_TRUE(restored.ok()) << restored.error().message();
        // Read back, what was written is what KVM holds.
        auto again = v.save_machine();
        ASSERT_TRUE(again.ok());
        const VcpuState& a = machine->vcpus[0];
        const VcpuState& b = again->vcpus[0];
        EXPECT_EQ(std::memcmp(&a.regs, &b.regs, sizeof a.regs), 0);
        EXPECT_EQ(std::memcmp(&a.sregs, &b.sregs, sizeof a.sregs), 0);
        EXPECT_EQ(std::memcmp(&a.xsave, &b.xsave, sizeof a.xsave), 0);
        EXPECT_EQ(std::memcmp(&a.lapic, &b.lapic, sizeof a.lapic), 0);
        EXPECT_EQ(a.mp_state.mp_state, b.mp_state.mp_state);
        ASSERT_EQ(a.msrs.size(), b.msrs.size());
        for (size_t i = 0; i < a.msrs.size(); ++i)
            EXPECT_EQ(a.msrs[i].index, b.msrs[i].index);
        EXPECT_EQ(std::memcmp(machine->vm.irqchips.data(), again->vm.irqchips.data(), sizeof machine->vm.irqchips), 0);
        ASSERT_TRUE(v.resume().ok());
        const off_t at = size_of(out + ".paused");
        eventually([&] { return size_of(out + ".paused") > at + 100 || v.state() != Vmm::State::Running; });
    }
    runner.join();
    EXPECT_GT(rounds, 5);
    EXPECT_EQ(status, plain_status);
    EXPECT_EQ(contents(out + ".paused"), contents(out + ".plain"));
}

// The kvmclock guest turns KVM's paravirtual clock on and reports each time its time page says
// the VM was stopped (PVCLOCK_GUEST_STOPPED): what keeps a paused Linux's watchdogs quiet.
TEST_F(PauseResume, AGuestWithKvmclockIsToldOfEachPause) {
    VmConfig c = config(out + ".paused");
    c.kernel = guest("kvmclock.elf");
    auto vm = build_vmm(c);
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    Vmm& v = **vm;
    int status = -1;
    std::thread runner([&] { status = v.run(); });
    const auto printed = [&](const std::string& line) { return contents(out + ".paused").find(line) != std::string::npos; };
    ASSERT_TRUE(eventually([&] { return printed("kvmclock: ready\n") || v.state() == Vmm::State::Stopped; }))
        << contents(out + ".paused");
    EXPECT_TRUE(printed("kvmclock: not stopped before any pause: ok")) << contents(out + ".paused");
    EXPECT_FALSE(printed("told it was stopped")) << "the flag came with no pause";
    for (int pause = 1; pause <= 3 && v.state() == Vmm::State::Running; ++pause) {
        ASSERT_TRUE(v.pause().ok());
        ASSERT_TRUE(v.resume().ok());
        const std::string line = "kvmclock: told it was stopped (" + std::to_string(pause) + ")\n";
        EXPECT_TRUE(eventually([&] { return printed(line); })) << "pause " << pause << ":\n" << contents(out + ".paused");
    }
    v.stop(exit_status::SIGNAL_BASE + 15, "test");
    runner.join();
    EXPECT_EQ(status, exit_status::SIGNAL_BASE + 15);
    EXPECT_FALSE(printed("(4)")) << "told of a pause that did not happen";
}

TEST_F(PauseResume, APausedVmStopsWhenAskedToEnd) {
    auto vm = build_vmm(config(out + ".paused"));
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    Vmm& v = **vm;
    int status = -1;
    std::thread runner([&] { status = v.run(); });
    ASSERT_TRUE(eventually([&] { return v.state() == Vmm::State::Running; }));
    ASSERT_TRUE(v.pause().ok());
    v.stop(exit_status::SIGNAL_BASE + 15, "test");
    runner.join();
    EXPECT_EQ(status, exit_status::SIGNAL_BASE + 15);
    EXPECT_EQ(v.state(), Vmm::State::Stopped);
    EXPECT_FALSE(v.resume().ok());
}

TEST_F(PauseResume, AVmThatDoesNotRunCannotBePaused) {
    auto vm = build_vmm(config(out + ".paused"));
    ASSERT_TRUE(vm.ok()) << vm.error().message();
    auto status = (*vm)->pause();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind(), ErrorKind::Busy);
}

}  // namespace
}  // namespace vmm
