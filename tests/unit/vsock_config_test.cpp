#include "vmm/vsock_config.h"

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(VsockConfigTest, CidAndSocketPath) {
    auto vsock = parse_vsock("cid=3,uds=/run/v.sock");
    ASSERT_TRUE(vsock.ok()) << vsock.error().message();
    EXPECT_EQ(vsock->cid, 3u);
    EXPECT_EQ(vsock->uds_path, "/run/v.sock");
    EXPECT_EQ(vsock->id, "vsock0");
}

TEST(VsockConfigTest, ReservedCidsAreRefused) {
    for (const char* text : {"cid=0,uds=/v", "cid=1,uds=/v", "cid=2,uds=/v", "cid=4294967295,uds=/v"}) {
        auto vsock = parse_vsock(text);
        ASSERT_FALSE(vsock.ok()) << text;
        EXPECT_NE(vsock.error().message().find("reserved or out of range"), std::string::npos) << text;
    }
}

TEST(VsockConfigTest, MissingOrBadFieldsAreNamed) {
    EXPECT_NE(parse_vsock("uds=/v").error().message().find("cid=N is required"), std::string::npos);
    EXPECT_NE(parse_vsock("cid=3").error().message().find("uds=PATH is required"), std::string::npos);
    EXPECT_NE(parse_vsock("cid=x,uds=/v").error().message().find("is not a number"), std::string::npos);
    EXPECT_FALSE(parse_vsock("cid=3,uds=/v,port=1").ok());
    EXPECT_FALSE(parse_vsock("cid=3,uds=/" + std::string(100, 'a')).ok()) << "no room for _PORT";
}

}  // namespace
}  // namespace vmm
