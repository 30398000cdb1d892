#include "devices/virtio/vsock_packet.h"

namespace vmm::virtio::vsock {

TxVerdict check_tx(const Header& header, uint64_t guest_cid, uint64_t payload_bytes) {
    // A packet claiming another source is not the guest's to send: nothing is answered to it.
    if (header.src_cid != guest_cid)
        return TxVerdict::Drop;
    // §5.10.6.3: an RST is never answered with an RST.
    const bool answerable = header.op != op::RST;
    const bool known_op = header.op >= op::REQUEST && header.op <= op::CREDIT_REQUEST;
    if (header.dst_cid != HOST_CID || header.type != TYPE_STREAM || !known_op ||
        header.len > MAX_PAYLOAD || header.len > payload_bytes || (header.op != op::RW && header.len != 0))
        return answerable ? TxVerdict::Reset : TxVerdict::Drop;
    return TxVerdict::Accept;
}

Header reply_to(const Header& to, uint16_t operation) {
    Header h{};
    h.src_cid = to.dst_cid;
    h.dst_cid = to.src_cid;
    h.src_port = to.dst_port;
    h.dst_port = to.src_port;
    h.type = TYPE_STREAM;
    h.op = operation;
    return h;
}

}  // namespace vmm::virtio::vsock
