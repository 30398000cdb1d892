// virtio-vsock packets (VIRTIO 1.2 §5.10.6): the header every packet starts with, its
// operations, and the one check of a header the driver put on the transmit queue.
#pragma once

#include <cstdint>

namespace vmm::virtio::vsock {

// §5.10.6 struct virtio_vsock_hdr, little-endian (as the hosts Ember runs on).
struct [[gnu::packed]] Header {
    uint64_t src_cid;
    uint64_t dst_cid;
    uint32_t src_port;
    uint32_t dst_port;
    uint32_t len;
    uint16_t type;
    uint16_t op;
    uint32_t flags;
    uint32_t buf_alloc;
    uint32_t fwd_cnt;
};
static_assert(sizeof(Header) == 44);

inline constexpr uint32_t HEADER_SIZE = sizeof(Header);
// §5.10.4: the host's CID; guests get 3 and up (0, 1 and 2 are reserved, U32_MAX too).
inline constexpr uint64_t HOST_CID = 2;
inline constexpr uint64_t MIN_GUEST_CID = 3;
inline constexpr uint64_t MAX_GUEST_CID = 0xffff'fffe;
inline constexpr uint16_t TYPE_STREAM = 1;
// The largest payload one packet carries either way (Linux's VIRTIO_VSOCK_MAX_PKT_BUF_SIZE).
inline constexpr uint32_t MAX_PAYLOAD = 64 * 1024;

namespace op {
inline constexpr uint16_t REQUEST = 1;
inline constexpr uint16_t RESPONSE = 2;
inline constexpr uint16_t RST = 3;
inline constexpr uint16_t SHUTDOWN = 4;
inline constexpr uint16_t RW = 5;
inline constexpr uint16_t CREDIT_UPDATE = 6;
inline constexpr uint16_t CREDIT_REQUEST = 7;
}  // namespace op

// SHUTDOWN flags: the sender will receive (RCV) or send (SEND) no more.
inline constexpr uint32_t SHUTDOWN_RCV = 1;
inline constexpr uint32_t SHUTDOWN_SEND = 2;
inline constexpr uint32_t SHUTDOWN_BOTH = SHUTDOWN_RCV | SHUTDOWN_SEND;

// What to do with a packet from the transmit queue before any connection sees it.
enum class TxVerdict {
    Accept,  // well-formed, from the guest, to the host: the muxer takes it
    Drop,    // not the guest's (wrong source CID) or an RST that would be answered: dropped
    Reset,   // not something the host can take (another CID, a type or op it does not know,
             // a length the chain does not hold): answered with an RST
};

// `payload_bytes`: how many bytes the chain holds after the header.
TxVerdict check_tx(const Header& header, uint64_t guest_cid, uint64_t payload_bytes);

// The header of a packet from the host answering (or continuing) `to`'s connection:
// addresses swapped, the given op, the rest zero.
Header reply_to(const Header& to, uint16_t op);

}  // namespace vmm::virtio::vsock
