// virtio-net wire format (VIRTIO 1.2 §5.1): feature bits, the per-packet header, and the
// device-side check of a header a driver hands over for transmission.
#pragma once

#include <cstdint>
#include <optional>

namespace vmm::virtio::net {

// §5.1.3 Feature bits.
namespace feature {
inline constexpr uint64_t CSUM = 1ull << 0;
inline constexpr uint64_t GUEST_CSUM = 1ull << 1;
inline constexpr uint64_t MAC = 1ull << 5;
inline constexpr uint64_t GUEST_TSO4 = 1ull << 7;
inline constexpr uint64_t GUEST_TSO6 = 1ull << 8;
inline constexpr uint64_t GUEST_ECN = 1ull << 9;
inline constexpr uint64_t GUEST_UFO = 1ull << 10;
inline constexpr uint64_t HOST_TSO4 = 1ull << 11;
inline constexpr uint64_t HOST_TSO6 = 1ull << 12;
inline constexpr uint64_t HOST_ECN = 1ull << 13;
inline constexpr uint64_t HOST_UFO = 1ull << 14;
inline constexpr uint64_t MRG_RXBUF = 1ull << 15;
inline constexpr uint64_t STATUS = 1ull << 16;
inline constexpr uint64_t CTRL_VQ = 1ull << 17;
inline constexpr uint64_t MQ = 1ull << 22;
}  // namespace feature

// §5.1.6 struct virtio_net_hdr; with VERSION_1 always 12 bytes (num_buffers included).
struct [[gnu::packed]] Header {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(Header) == 12);

inline constexpr uint8_t HDR_F_NEEDS_CSUM = 1;
inline constexpr uint8_t HDR_F_DATA_VALID = 2;
inline constexpr uint8_t GSO_NONE = 0;
inline constexpr uint8_t GSO_TCPV4 = 1;
inline constexpr uint8_t GSO_UDP = 3;
inline constexpr uint8_t GSO_TCPV6 = 4;
inline constexpr uint8_t GSO_ECN = 0x80;

inline constexpr uint32_t ETH_HEADER = 14;
// The largest frame either direction carries after the header: a 64 KiB GSO packet plus
// its Ethernet and VLAN headers.
inline constexpr uint32_t MAX_FRAME = 65535 + ETH_HEADER + 4;

// Why a transmit header was refused (each one is counted).
enum class TxReject { None, GsoNotNegotiated, GsoSize, Checksum };

// §5.1.6.2.2: checks and rewrites a driver's transmit header for a frame of `frame_len`
// bytes under the negotiated features. Flags the driver may not set are cleared, hdr_len is
// not trusted (clamped to the frame), a checksum request must lie inside the frame, and a
// GSO type must have been negotiated and carry a size. The device passes on only the result.
TxReject sanitize_tx_header(Header& header, uint64_t features, uint32_t frame_len);

}  // namespace vmm::virtio::net
