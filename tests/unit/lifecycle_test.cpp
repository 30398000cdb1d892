#include "vmm/lifecycle.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <thread>
#include <vector>

namespace vmm {
namespace {

TEST(ExitStatus, FollowsTheErrorKind) {
    EXPECT_EQ(exit_status::for_error(ErrorKind::InvalidInput), 2);
    EXPECT_EQ(exit_status::for_error(ErrorKind::NotFound), 2);
    EXPECT_EQ(exit_status::for_error(ErrorKind::Busy), 10);
    EXPECT_EQ(exit_status::for_error(ErrorKind::HostResource), 12);
    EXPECT_EQ(exit_status::for_error(ErrorKind::GuestFault), 4);
    EXPECT_EQ(exit_status::for_error(ErrorKind::Internal), 8);
}

TEST(ExitStatus, EmberNeverUsesAnOddStatus) {  // odd ones belong to the debug-exit port
    for (auto kind : {ErrorKind::InvalidInput, ErrorKind::NotFound, ErrorKind::Busy, ErrorKind::HostResource,
                      ErrorKind::GuestFault, ErrorKind::Internal})
        EXPECT_EQ(exit_status::for_error(kind) % 2, 0);
}

TEST(Lifecycle, FirstStopRequestWins) {
    auto lifecycle = Lifecycle::create().value();
    EXPECT_FALSE(lifecycle->stop_requested());
    lifecycle->request_stop(85, "debug exit");
    lifecycle->request_stop(0, "reset");
    EXPECT_TRUE(lifecycle->stop_requested());
    EXPECT_EQ(lifecycle->exit_code(), 85);
    EXPECT_EQ(lifecycle->reason(), "debug exit");
}

TEST(Lifecycle, StopMakesEventFdReadable) {
    auto lifecycle = Lifecycle::create().value();
    pollfd pfd{lifecycle->event_fd(), POLLIN, 0};
    EXPECT_EQ(::poll(&pfd, 1, 0), 0);
    lifecycle->request_stop(0, "done");
    EXPECT_EQ(::poll(&pfd, 1, 0), 1);
}

TEST(Lifecycle, ConcurrentRequestsRecordExactlyOne) {
    auto lifecycle = Lifecycle::create().value();
    std::vector<std::thread> threads;
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] { lifecycle->request_stop(i * 2, "vcpu " + std::to_string(i)); });
    for (auto& t : threads)
        t.join();
    const int code = lifecycle->exit_code();
    EXPECT_EQ(lifecycle->reason(), "vcpu " + std::to_string(code / 2));
}

}  // namespace
}  // namespace vmm
