#include "vmm/pause_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace vmm {
namespace {

// Threads standing in for vCPUs: each counts while running and, when kicked, parks at the gate.
struct FakeVcpus {
    explicit FakeVcpus(size_t n) : gate(n), kicked(n) {
        for (size_t i = 0; i < n; ++i)
            threads.emplace_back([this, i] {
                while (!stop.load()) {
                    if (kicked[i].exchange(false))
                        gate.park_if_closed();
                    work.fetch_add(1);
                }
                gate.leave();
            });
    }
    ~FakeVcpus() {
        stop = true;
        gate.release();
        for (auto& t : threads)
            t.join();
    }
    void kick_all() {
        for (auto& k : kicked)
            k = true;
    }

    PauseGate gate;
    std::vector<std::atomic<bool>> kicked;
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> work{0};
    std::vector<std::thread> threads;
};

TEST(PauseGate, CloseReturnsWithEveryVcpuParkedAndNothingRuns) {
    FakeVcpus vcpus(4);
    for (int round = 0; round < 50; ++round) {
        vcpus.gate.close([&] { vcpus.kick_all(); });
        const uint64_t at_pause = vcpus.work.load();
        for (int i = 0; i < 1000; ++i)
            std::this_thread::yield();
        EXPECT_EQ(vcpus.work.load(), at_pause) << "round " << round;
        vcpus.gate.open();
        const uint64_t resumed_from = vcpus.work.load();
        while (vcpus.work.load() == resumed_from)
            std::this_thread::yield();
    }
}

TEST(PauseGate, AnEndedVcpuDoesNotHoldUpAPause) {
    PauseGate gate(2);
    gate.leave();  // one vCPU halted for good
    std::atomic<bool> kicked{false};
    std::thread vcpu([&] {
        while (!kicked.load())
            std::this_thread::yield();
        gate.park_if_closed();
    });
    gate.close([&] { kicked = true; });
    EXPECT_TRUE(gate.closed());
    gate.open();
    vcpu.join();
}

TEST(PauseGate, ReleaseLetsParkedVcpusGoAndNoneParksAgain) {
    PauseGate gate(1);
    std::atomic<bool> kicked{false};
    std::atomic<bool> parked_and_left{false};
    std::thread vcpu([&] {
        while (!kicked.load())
            std::this_thread::yield();
        EXPECT_TRUE(gate.park_if_closed());
        parked_and_left = true;
    });
    gate.close([&] { kicked = true; });
    gate.release();
    vcpu.join();
    EXPECT_TRUE(parked_and_left.load());
    EXPECT_FALSE(gate.park_if_closed());
    gate.close([] {});  // after release, a pause never waits
    EXPECT_FALSE(gate.closed());
}

TEST(PauseGate, AnOpenGateDoesNotPark) {
    PauseGate gate(1);
    EXPECT_FALSE(gate.park_if_closed());
}

}  // namespace
}  // namespace vmm
