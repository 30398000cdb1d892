#include "devices/virtio/net_header.h"

#include <gtest/gtest.h>

namespace vmm::virtio::net {
namespace {

TEST(NetHeader, UnknownAndReceiveOnlyFlagsAreCleared) {
    Header h{};
    h.flags = HDR_F_DATA_VALID | 0xf0;
    EXPECT_EQ(sanitize_tx_header(h, feature::CSUM, 100), TxReject::None);
    EXPECT_EQ(h.flags, 0);
}

TEST(NetHeader, NeedsCsumIsIgnoredWithoutCsumNegotiated) {
    Header h{};
    h.flags = HDR_F_NEEDS_CSUM;
    h.csum_start = 5000;  // would be out of the frame
    EXPECT_EQ(sanitize_tx_header(h, 0, 100), TxReject::None);
    EXPECT_EQ(h.flags, 0);
}

TEST(NetHeader, ChecksumOutsideTheFrameIsRefused) {
    Header h{};
    h.flags = HDR_F_NEEDS_CSUM;
    h.csum_start = 90;
    h.csum_offset = 9;  // 90 + 9 + 2 > 100
    EXPECT_EQ(sanitize_tx_header(h, feature::CSUM, 100), TxReject::Checksum);
    h.csum_offset = 8;
    EXPECT_EQ(sanitize_tx_header(h, feature::CSUM, 100), TxReject::None);
}

TEST(NetHeader, HdrLenIsClampedToTheFrame) {
    Header h{};
    h.hdr_len = 60000;
    EXPECT_EQ(sanitize_tx_header(h, 0, 1500), TxReject::None);
    EXPECT_EQ(h.hdr_len, 1500);
}

TEST(NetHeader, EachGsoTypeNeedsItsFeature) {
    const std::pair<uint8_t, uint64_t> cases[] = {
        {GSO_TCPV4, feature::HOST_TSO4}, {GSO_TCPV6, feature::HOST_TSO6}, {GSO_UDP, feature::HOST_UFO}};
    for (const auto& [type, needed] : cases) {
        Header h{};
        h.gso_type = type;
        h.gso_size = 1400;
        EXPECT_EQ(sanitize_tx_header(h, feature::CSUM, 9000), TxReject::GsoNotNegotiated) << int(type);
        EXPECT_EQ(sanitize_tx_header(h, feature::CSUM | needed, 9000), TxReject::None) << int(type);
    }
}

TEST(NetHeader, UnknownGsoTypeAndEcnAreRefused) {
    Header h{};
    h.gso_type = 2;  // not a type
    h.gso_size = 1400;
    EXPECT_EQ(sanitize_tx_header(h, ~0ull & ~feature::HOST_ECN, 9000), TxReject::GsoNotNegotiated);
    h.gso_type = GSO_TCPV4 | GSO_ECN;
    EXPECT_EQ(sanitize_tx_header(h, feature::HOST_TSO4, 9000), TxReject::GsoNotNegotiated);
    h.gso_type = GSO_ECN;  // ECN without a type
    EXPECT_EQ(sanitize_tx_header(h, feature::HOST_ECN, 9000), TxReject::GsoNotNegotiated);
}

TEST(NetHeader, GsoWithoutASegmentSizeIsRefused) {
    Header h{};
    h.gso_type = GSO_TCPV4;
    EXPECT_EQ(sanitize_tx_header(h, feature::HOST_TSO4, 9000), TxReject::GsoSize);
}

}  // namespace
}  // namespace vmm::virtio::net
