#include "devices/virtio/vsock.h"

#include <fmt/format.h>

#include "devices/virtio/chain_io.h"

namespace vmm::virtio {

using namespace vsock;

Vsock::Vsock(GuestMemory& memory, uint64_t guest_cid, std::unique_ptr<Muxer> muxer)
    : m_memory(memory), m_guest_cid(guest_cid), m_muxer(std::move(muxer)) {}

// §5.10.4: guest_cid, 64 bits.
void Vsock::read_config(uint64_t offset, std::span<uint8_t> data) const { copy_config(m_guest_cid, offset, data); }

Result<bool> Vsock::process_queue(size_t index, Virtqueue& queue) {
    std::lock_guard lock(m_mutex);
    if (index == RXQ)
        return receive(queue);
    if (index == TXQ) {
        const bool more = TRY(transmit(queue));
        if (m_muxer->has_rx_work() && m_kick)
            m_kick(RXQ);
        return more;
    }
    return send_event(queue);  // the event queue: buffers wait for an event
}

void Vsock::announce_transport_reset() {
    std::lock_guard lock(m_mutex);
    m_reset_pending = true;
}

// §5.10.6.6: struct virtio_vsock_event { le32 id; }, id 0 = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET.
Result<bool> Vsock::send_event(Virtqueue& queue) {
    if (!m_reset_pending || !TRY(queue.pop(m_chain)))
        return false;
    const uint32_t id = 0;
    if (m_chain.writable_bytes < sizeof id)
        return guest_fault(fmt::format("vsock event buffer of {} bytes is smaller than an event", m_chain.writable_bytes));
    TRY(write_buffers(m_memory, m_chain.writable, 0, std::span(reinterpret_cast<const uint8_t*>(&id), sizeof id)));
    TRY(queue.add_used(m_chain.head, sizeof id));
    m_reset_pending = false;
    return false;
}

void Vsock::reset() {
    std::lock_guard lock(m_mutex);
    m_muxer->reset();
    m_tx_waiting = false;
    m_reset_pending = false;
}

bool Vsock::host_events() {
    std::lock_guard lock(m_mutex);
    m_muxer->host_events();
    return m_muxer->has_rx_work();
}

Result<bool> Vsock::receive(Virtqueue& queue) {
    size_t served = 0;
    while (served < PACKETS_PER_CALL && m_muxer->has_rx_work() && TRY(queue.pop(m_chain))) {
        // §5.10.6.1: every receive buffer holds at least a header.
        if (m_chain.writable_bytes < HEADER_SIZE)
            return guest_fault(fmt::format("vsock receive buffer of {} bytes is smaller than a packet header",
                                           m_chain.writable_bytes));
        const uint32_t length = TRY(m_muxer->to_guest(m_memory, m_chain));
        if (length == 0) {
            queue.undo_pop(1);
            break;
        }
        TRY(queue.add_used(m_chain.head, length));
        ++served;
    }
    if (m_tx_waiting && !m_muxer->tx_blocked() && m_kick) {
        m_tx_waiting = false;
        m_kick(TXQ);
    }
    return served >= PACKETS_PER_CALL && m_muxer->has_rx_work() && queue.has_available();
}

Result<bool> Vsock::transmit(Virtqueue& queue) {
    size_t served = 0;
    for (; served < PACKETS_PER_CALL; ++served) {
        // Each packet may need an answer; none is dropped for want of room, the queue waits.
        if (m_muxer->tx_blocked()) {
            m_tx_waiting = true;
            return false;
        }
        if (!TRY(queue.pop(m_chain)))
            return false;
        transmit_one();
        TRY(queue.add_used(m_chain.head, 0));
    }
    return stopped_at_budget(served, PACKETS_PER_CALL, queue);
}

void Vsock::transmit_one() {
    vsock::Header header;
    if (m_chain.readable_bytes < HEADER_SIZE ||
        !read_buffers(m_memory, m_chain.readable, 0, std::span(reinterpret_cast<uint8_t*>(&header), HEADER_SIZE)).ok()) {
        ++m_dropped;
        return;
    }
    // The header is checked from this host copy; the payload stays in guest memory.
    switch (check_tx(header, m_guest_cid, m_chain.readable_bytes - HEADER_SIZE)) {
    case TxVerdict::Accept: m_muxer->from_guest(m_memory, header, m_chain.readable); break;
    case TxVerdict::Reset: m_muxer->answer_reset(header); break;
    case TxVerdict::Drop: ++m_dropped; break;
    }
}

std::vector<CounterValue> Vsock::counters() const {
    const MuxerStats& s = m_muxer->stats();
    return {{"connections", s.connections}, {"refused", s.refused}, {"resets", s.resets},
            {"rx_bytes", s.to_guest_bytes}, {"tx_bytes", s.from_guest_bytes}, {"dropped", m_dropped}};
}

}  // namespace vmm::virtio
