#include "vmm/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "base/unique_fd.h"

namespace vmm {
namespace {

UniqueFd ready_eventfd() {
    UniqueFd fd(::eventfd(1, EFD_CLOEXEC | EFD_NONBLOCK));  // readable from the start
    return fd;
}

void drain(int fd) {
    uint64_t count;
    (void)::read(fd, &count, sizeof count);
}

struct EventLoopTest : ::testing::Test {
    std::unique_ptr<EventLoop> loop = EventLoop::create().value();
    UniqueFd device = ready_eventfd();
    UniqueFd control = ready_eventfd();
    std::vector<const char*> served;

    void device_served() {
        served.push_back("device");
        drain(device.get());
        loop->stop();
    }
    // Resumed, the device event that waited in the kernel is served.
    void expect_device_served_on_resume() {
        ASSERT_TRUE(loop->set_paused(EventGroup::Device, false).ok());
        served.clear();
        ASSERT_TRUE(loop->run().ok());
        EXPECT_EQ(served, std::vector<const char*>{"device"});
    }
    // The device fd in the device group, the control fd in the control group.
    void watch_both() {
        ASSERT_TRUE(loop->add(device.get(), EPOLLIN, [&](uint32_t) { device_served(); }, EventGroup::Device).ok());
        ASSERT_TRUE(loop->add(control.get(), EPOLLIN, [&](uint32_t) {
            served.push_back("control");
            drain(control.get());
            loop->stop();
        }).ok());
    }
};

// Each callback stops the loop: one run() serves one pass of what epoll reported.
TEST_F(EventLoopTest, APausedDeviceGroupIsNotServedButControlIs) {
    watch_both();
    ASSERT_TRUE(loop->set_paused(EventGroup::Device, true).ok());
    ASSERT_TRUE(loop->run().ok());
    EXPECT_EQ(served, std::vector<const char*>{"control"});

    expect_device_served_on_resume();
}

TEST_F(EventLoopTest, ModifyWhilePausedIsAppliedOnResume) {
    watch_both();
    ASSERT_TRUE(loop->modify(device.get(), 0).ok());  // backpressure: the device wants nothing
    ASSERT_TRUE(loop->set_paused(EventGroup::Device, true).ok());
    ASSERT_TRUE(loop->modify(device.get(), EPOLLIN).ok());  // held back while paused
    ASSERT_TRUE(loop->run().ok());
    EXPECT_EQ(served, std::vector<const char*>{"control"});
    expect_device_served_on_resume();
}

TEST_F(EventLoopTest, ModifyingAnUnwatchedFdIsAnError) { EXPECT_FALSE(loop->modify(device.get(), EPOLLIN).ok()); }

TEST_F(EventLoopTest, ACallbackMayRemoveItself) {
    ASSERT_TRUE(loop->add(device.get(), EPOLLIN, [&](uint32_t) {
        served.push_back("device");
        (void)loop->remove(device.get());
        loop->stop();
    }).ok());
    ASSERT_TRUE(loop->run().ok());
    EXPECT_EQ(served.size(), 1u);
}

// A subscriber gets each of its fds' events with that fd's token, and lives as long as the loop.
struct TwoFdSubscriber : EventSubscriber {
    TwoFdSubscriber(int a, int b, EventLoop& loop) : a(a), b(b), loop(loop) {}
    std::vector<Interest> interests() const override { return {{a, EPOLLIN, 0}, {b, EPOLLIN, 1}}; }
    void on_event(uint32_t token, uint32_t) override {
        const int fd = token == 0 ? a : b;
        seen.push_back(fd);
        drain(fd);
        if (seen.size() == 2)
            loop.stop();
    }
    int a, b;
    EventLoop& loop;
    std::vector<int> seen;
};

TEST_F(EventLoopTest, ASubscriberIsToldWhichOfItsFdsIsReady) {
    auto subscriber = std::make_shared<TwoFdSubscriber>(device.get(), control.get(), *loop);
    std::weak_ptr<TwoFdSubscriber> alive = subscriber;
    ASSERT_TRUE(loop->subscribe(subscriber).ok());
    subscriber.reset();  // the loop keeps it
    ASSERT_TRUE(loop->run().ok());
    ASSERT_FALSE(alive.expired());
    auto seen = alive.lock()->seen;
    std::sort(seen.begin(), seen.end());
    std::vector<int> expected{device.get(), control.get()};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(seen, expected);
}

}  // namespace
}  // namespace vmm
