#include "vmm/net_config.h"

#include <arpa/inet.h>

#include <gtest/gtest.h>

namespace vmm {
namespace {

TEST(NetConfig, ParsesAMac) {
    auto mac = parse_mac("52:54:00:ab:CD:0f");
    ASSERT_TRUE(mac.ok());
    EXPECT_EQ(*mac, (MacAddress{0x52, 0x54, 0x00, 0xab, 0xcd, 0x0f}));
    EXPECT_EQ(format_mac(*mac), "52:54:00:ab:cd:0f");
}

TEST(NetConfig, RefusesMalformedMulticastAndZeroMacs) {
    for (const char* bad : {"52:54:00:12:34", "52:54:00:12:34:5g", "52-54-00-12-34-56", "52:54:00:12:34:567",
                            "01:00:5e:00:00:01", "00:00:00:00:00:00", ""})
        EXPECT_FALSE(parse_mac(bad).ok()) << bad;
}

TEST(NetConfig, RandomMacsAreUnicastAndLocallyAdministered) {
    for (int i = 0; i < 32; ++i) {
        const MacAddress mac = random_mac();
        EXPECT_EQ(mac[0] & 3, 2);
    }
}

TEST(NetConfig, ParsesATapWithAddressAndQueues) {
    auto net = parse_net("tap=tap0,mac=52:54:00:12:34:56,ip=10.0.0.1,mask=255.255.0.0,num_queues=2");
    ASSERT_TRUE(net.ok()) << net.error().message();
    EXPECT_EQ(net->tap, "tap0");
    EXPECT_EQ(net->fd, -1);
    EXPECT_EQ(*net->ip, inet_addr("10.0.0.1"));
    EXPECT_EQ(net->mask, inet_addr("255.255.0.0"));
    EXPECT_EQ(net->queues, 2u);
    ASSERT_TRUE(net->mac);
}

TEST(NetConfig, MaskDefaultsToASlash24) {
    auto net = parse_net("tap=t,ip=10.0.0.1");
    ASSERT_TRUE(net.ok());
    EXPECT_EQ(net->mask, inet_addr("255.255.255.0"));
    EXPECT_FALSE(net->mac);
}

TEST(NetConfig, ParsesAnFd) {
    auto net = parse_net("fd=7");
    ASSERT_TRUE(net.ok());
    EXPECT_EQ(net->fd, 7);
    EXPECT_TRUE(net->tap.empty());
}

TEST(NetConfig, RefusesBadCombinationsAndValues) {
    for (const char* bad : {"", "mac=52:54:00:12:34:56", "tap=a,fd=3", "fd=3,ip=10.0.0.1", "fd=3,num_queues=2",
                            "tap=a,mask=255.255.255.0", "tap=a,ip=10.0.0", "tap=a,ip=10.0.0.1,mask=255.0.255.0",
                            "tap=a,num_queues=0", "tap=a,num_queues=9", "tap=averyveryverylongname",
                            "tap=a/b", "tap=..", "fd=-1", "fd=x", "tap=a,speed=10", "tap"})
        EXPECT_FALSE(parse_net(bad).ok()) << bad;
}

TEST(NetConfig, ErrorsNameTheOption) {
    auto net = parse_net("tap=a,num_queues=99");
    ASSERT_FALSE(net.ok());
    EXPECT_NE(net.error().message().find("--net 'tap=a,num_queues=99'"), std::string::npos);
}

NetConfig net(const char* text) { return parse_net(text).value(); }

TEST(NetConfig, RefusesATapOrMacGivenTwice) {
    EXPECT_FALSE(validate_nets({net("tap=a"), net("tap=a")}).ok());
    EXPECT_FALSE(validate_nets({net("tap=a,mac=52:54:00:12:34:56"),
                                net("tap=b,mac=52:54:00:12:34:56")}).ok());
    EXPECT_TRUE(validate_nets({net("tap=a"), net("tap=b"), net("fd=3")}).ok());
}

}  // namespace
}  // namespace vmm
