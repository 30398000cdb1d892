#include "devices/virtio/net_header.h"

#include <algorithm>

namespace vmm::virtio::net {

namespace {

uint64_t gso_feature(uint8_t type) {
    switch (type) {
    case GSO_TCPV4: return feature::HOST_TSO4;
    case GSO_TCPV6: return feature::HOST_TSO6;
    case GSO_UDP: return feature::HOST_UFO;
    default: return 0;  // unknown: never negotiable
    }
}

}  // namespace

TxReject sanitize_tx_header(Header& header, uint64_t features, uint32_t frame_len) {
    // Unknown flags and DATA_VALID (receive-only) are ignored; NEEDS_CSUM only means
    // something with CSUM negotiated.
    header.flags &= (features & feature::CSUM) ? HDR_F_NEEDS_CSUM : 0;
    header.num_buffers = 0;
    header.hdr_len = static_cast<uint16_t>(std::min<uint32_t>(header.hdr_len, frame_len));
    if ((header.flags & HDR_F_NEEDS_CSUM) &&
        uint32_t{header.csum_start} + header.csum_offset + 2 > frame_len)
        return TxReject::Checksum;
    if ((header.gso_type & GSO_ECN) && !(features & feature::HOST_ECN))
        return TxReject::GsoNotNegotiated;
    const uint8_t type = header.gso_type & static_cast<uint8_t>(~GSO_ECN);
    if (type == GSO_NONE) {
        if (header.gso_type != GSO_NONE)
            return TxReject::GsoNotNegotiated;
        header.gso_size = 0;
        return TxReject::None;
    }
    const uint64_t needed = gso_feature(type);
    if (!needed || !(features & needed))
        return TxReject::GsoNotNegotiated;
    if (header.gso_size == 0)
        return TxReject::GsoSize;
    return TxReject::None;
}

}  // namespace vmm::virtio::net
