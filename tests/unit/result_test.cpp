#include "base/result.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(Error, KindFollowsErrno) {
    EXPECT_EQ(Error::from_errno("open", ENOENT).kind(), ErrorKind::NotFound);
    EXPECT_EQ(Error::from_errno("open", EACCES).kind(), ErrorKind::NotFound);
    EXPECT_EQ(Error::from_errno("flock", EWOULDBLOCK).kind(), ErrorKind::Busy);
    EXPECT_EQ(Error::from_errno("TUNSETIFF", EBUSY).kind(), ErrorKind::Busy);
    EXPECT_EQ(Error::from_errno("mmap", ENOMEM).kind(), ErrorKind::HostResource);
    EXPECT_EQ(Error::from_errno("open", EMFILE).kind(), ErrorKind::HostResource);
    EXPECT_EQ(Error::from_errno("open", EISDIR).kind(), ErrorKind::InvalidInput);
}

TEST(Error, PlainErrorIsInvalidInput) { EXPECT_EQ(Error("bad size").kind(), ErrorKind::InvalidInput); }

TEST(Error, ContextKeepsKindAndErrno) {
    const Error error = Error::from_errno("KVM_CREATE_VM", ENOMEM).context("kvm");
    EXPECT_EQ(error.kind(), ErrorKind::HostResource);
    EXPECT_EQ(error.sys_errno(), ENOMEM);
    EXPECT_EQ(error.message().rfind("kvm: KVM_CREATE_VM: ", 0), 0u);
}

TEST(Error, WithKindReplacesOnlyTheKind) {
    const Error error = Error::from_errno("TUNSETIFF", EINVAL).with_kind(ErrorKind::Busy);
    EXPECT_EQ(error.kind(), ErrorKind::Busy);
    EXPECT_EQ(error.sys_errno(), EINVAL);
}

TEST(Error, GuestFaultHelper) { EXPECT_EQ(guest_fault("loop").kind(), ErrorKind::GuestFault); }

TEST(Error, TryCtxPropagatesTheKind) {
    auto inner = []() -> Status { return Error(ErrorKind::Busy, "held"); };
    auto outer = [&]() -> Status {
        TRY_CTX(inner(), "disk 'x'");
        return {};
    };
    const Status status = outer();
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().kind(), ErrorKind::Busy);
    EXPECT_EQ(status.error().message(), "disk 'x': held");
}

TEST(Error, EveryKindHasAName) {
    for (auto kind : {ErrorKind::InvalidInput, ErrorKind::NotFound, ErrorKind::Busy, ErrorKind::HostResource,
                      ErrorKind::GuestFault, ErrorKind::Internal})
        EXPECT_STRNE(error_kind_name(kind), "");
    EXPECT_STREQ(error_kind_name(ErrorKind::Busy), "busy");
}

}  // namespace
}  // namespace vmm
