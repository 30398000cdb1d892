#include "vmm/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace vmm
