#include "devices/virtio/net.h"

#include <linux/if_tun.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/chain_io.h"
#include "devices/virtio/virtio.h"
#include "base/rate_limiter.h"

namespace vmm::virtio {

namespace {

// §5.1.4: mac, status, max_virtqueue_pairs.
struct [[gnu::packed]] NetConfigSpace {
    uint8_t mac[6];
    uint16_t status;
    uint16_t max_virtqueue_pairs;
};
static_assert(sizeof(NetConfigSpace) == 10);

constexpr uint16_t STATUS_LINK_UP = 1;
constexpr uint8_t CTRL_MQ = 4;
constexpr uint8_t CTRL_MQ_VQ_PAIRS_SET = 0;
constexpr uint8_t CTRL_OK = 0;
constexpr uint8_t CTRL_ERR = 1;
constexpr size_t HEADER = sizeof(net::Header);
// A frame from the backend, header included; a read that fills it was truncated.
constexpr size_t RX_CAPACITY = HEADER + net::MAX_FRAME + 1;

constexpr uint64_t BASE_FEATURES = net::feature::MAC | net::feature::STATUS | net::feature::MRG_RXBUF |
                                   net::feature::CSUM | net::feature::HOST_TSO4 | net::feature::HOST_TSO6 |
                                   net::feature::HOST_UFO;

// The receive offloads the backend can hand the driver, as TUN_F_* bits per feature.
constexpr std::pair<uint64_t, uint32_t> GUEST_OFFLOADS[] = {
    {net::feature::GUEST_CSUM, TUN_F_CSUM},
    {net::feature::GUEST_TSO4, TUN_F_TSO4},
    {net::feature::GUEST_TSO6, TUN_F_TSO6},
    {net::feature::GUEST_UFO, TUN_F_UFO},
};

uint32_t tun_flags(uint64_t features) {
    uint32_t flags = 0;
    for (const auto& [feature, flag] : GUEST_OFFLOADS)
        if (features & feature)
            flags |= flag;
    return flags;
}

// The guest offloads the backend accepts: all, all but UFO (kernels that dropped it), or none.
uint64_t probe_guest_offloads(NetBackend& backend) {
    const uint64_t all = net::feature::GUEST_CSUM | net::feature::GUEST_TSO4 | net::feature::GUEST_TSO6 |
                         net::feature::GUEST_UFO;
    for (uint64_t candidate : {all, all & ~net::feature::GUEST_UFO}) {
        if (backend.set_offload(tun_flags(candidate)).ok()) {
            (void)backend.set_offload(0);
            return candidate;
        }
    }
    return 0;
}

}  // namespace

Net::Net(GuestMemory& memory, std::vector<std::unique_ptr<NetBackend>> backends, const Mac& mac)
    : m_memory(memory), m_mac(mac) {
    for (auto& backend : backends)
        m_pairs.push_back(Pair{std::move(backend), std::make_unique_for_overwrite<uint8_t[]>(RX_CAPACITY)});
    m_offered = BASE_FEATURES | probe_guest_offloads(*m_pairs.front().backend);
    if (m_pairs.size() > 1)
        m_offered |= net::feature::CTRL_VQ | net::feature::MQ;
    m_used.reserve(Virtqueue::MAX_SIZE);
}

Net::~Net() {
    const NetStats& s = m_stats;
    if (s.tx_dropped || s.tx_errors || s.rx_dropped)
        spdlog::warn("virtio-net: {} of {} transmit frames dropped as malformed, {} not taken by the TAP; "
                     "{} received frames dropped (no header, truncated, or buffers too small)",
                     s.tx_dropped.get(), s.tx_frames + s.tx_dropped + s.tx_errors, s.tx_errors.get(),
                     s.rx_dropped.get());
}

uint32_t Net::device_id() const { return device_id::NET; }

// Receive and transmit queue per pair, then the control queue when there are several.
size_t Net::queue_count() const { return m_pairs.size() > 1 ? 2 * m_pairs.size() + 1 : 2; }

size_t Net::config_size() const { return sizeof(NetConfigSpace); }

void Net::read_config(uint64_t offset, std::span<uint8_t> data) const {
    NetConfigSpace config{};
    std::memcpy(config.mac, m_mac.data(), m_mac.size());
    config.status = STATUS_LINK_UP;
    config.max_virtqueue_pairs = static_cast<uint16_t>(m_pairs.size());
    copy_config(config, offset, data);
}

void Net::activate(uint64_t features) {
    m_features = features;
    for (Pair& pair : m_pairs)
        if (auto result = pair.backend->set_offload(tun_flags(features)); !result.ok() && allow_guest_message())
            spdlog::warn("virtio-net: receive offloads not set: {}", result.error().message());
    // §5.1.5: until the driver asks for more, only the first pair is used.
    if (m_pairs.size() > 1)
        (void)set_active_pairs(1);
}

void Net::reset() {
    for (Pair& pair : m_pairs)
        pair.frame_len = 0;
    m_features = 0;
}

// §5.1.2: receiveq1, transmitq1, ..., then controlq: at 2N with MQ, else at 2.
Net::Role Net::role(size_t index, size_t& pair) const {
    const size_t data_queues = (m_features & net::feature::MQ) ? 2 * m_pairs.size() : 2;
    if (index < data_queues) {
        pair = index / 2;
        return index % 2 == 0 ? Role::Rx : Role::Tx;
    }
    if (index == data_queues && (m_features & net::feature::CTRL_VQ))
        return Role::Control;
    return Role::Unused;
}

// A queue this device does not serve now (an inactive pair's receive queue, a queue outside
// the negotiated layout) has nothing to do, whatever buffers the driver posted on it.
Result<bool> Net::process_queue(size_t index, Virtqueue& queue) {
    size_t pair = 0;
    switch (role(index, pair)) {
    case Role::Rx: return pair < m_active_pairs ? receive(m_pairs[pair], queue) : false;
    case Role::Tx: return transmit(m_pairs[pair], queue);
    case Role::Control: return control(queue);
    case Role::Unused: break;
    }
    return false;
}

// True when it stopped at the budget with frames possibly left in the backend.
Result<bool> Net::receive(Pair& pair, Virtqueue& queue) {
    for (size_t served = 0; served < FRAMES_PER_CALL; ++served) {
        if (pair.frame_len == 0) {
            auto got = pair.backend->receive(std::span(pair.frame.get(), RX_CAPACITY));
            if (!got.ok() || *got == 0)
                return false;  // nothing waiting; a backend error is the host's, not the guest's
            if (*got < HEADER || *got == RX_CAPACITY) {
                ++m_stats.rx_dropped;  // no header, or truncated
                continue;
            }
            pair.frame_len = *got;
        }
        if (!TRY(deliver(pair, queue)))
            return false;  // no buffers: the frame waits until the driver posts some
        pair.frame_len = 0;
    }
    return true;
}

// Copies the waiting frame into as many receive buffers as it needs (one without
// MRG_RXBUF). False, with every buffer handed back, when the driver has not posted enough.
Result<bool> Net::deliver(Pair& pair, Virtqueue& queue) {
    const bool mergeable = m_features & net::feature::MRG_RXBUF;
    const std::span<const uint8_t> frame(pair.frame.get(), pair.frame_len);
    m_used.clear();
    for (size_t offset = 0; offset < frame.size();) {
        DescriptorChain& chain = m_used.empty() ? m_first : m_chain;
        if (!TRY(queue.pop(chain))) {
            queue.undo_pop(static_cast<uint16_t>(m_used.size()));
            return false;
        }
        // §5.1.6.3.1: every receive buffer holds at least the header.
        if (chain.writable_bytes < HEADER)
            return guest_fault(fmt::format("receive buffer of {} bytes is smaller than the virtio-net header",
                                     chain.writable_bytes));
        if (!mergeable && chain.writable_bytes < frame.size()) {
            ++m_stats.rx_dropped;  // the driver posted buffers too small for this frame
            TRY(queue.add_used(chain.head, 0));
            return true;
        }
        const size_t n = std::min<uint64_t>(frame.size() - offset, chain.writable_bytes);
        TRY(write_buffers(m_memory, chain.writable, 0, frame.subspan(offset, n)));
        m_used.emplace_back(chain.head, static_cast<uint32_t>(n));
        offset += n;
    }
    // §5.1.6.4: num_buffers says how many buffers the frame took (1 without MRG_RXBUF).
    const uint16_t num_buffers = static_cast<uint16_t>(m_used.size());
    TRY(write_buffers(m_memory, m_first.writable, offsetof(net::Header, num_buffers),
                      std::span(reinterpret_cast<const uint8_t*>(&num_buffers), sizeof num_buffers)));
    TRY(queue.add_used(m_used));
    ++m_stats.rx_frames;
    m_stats.rx_bytes += frame.size() - HEADER;
    return true;
}

Result<bool> Net::transmit(Pair& pair, Virtqueue& queue) {
    size_t served = 0;
    for (; served < FRAMES_PER_CALL && TRY(queue.pop(m_chain)); ++served) {
        if (!transmit_one(pair))
            ++m_stats.tx_dropped;
        TRY(queue.add_used(m_chain.head, 0));
    }
    return stopped_at_budget(served, FRAMES_PER_CALL, queue);
}

// One transmit chain: header, then the frame. The header is checked and passed on from a
// host copy, so the driver cannot change it after the check.
bool Net::transmit_one(Pair& pair) {
    if (m_chain.readable_bytes < HEADER || m_chain.readable_bytes - HEADER < net::ETH_HEADER ||
        m_chain.readable_bytes - HEADER > net::MAX_FRAME)
        return false;
    const auto frame_len = static_cast<uint32_t>(m_chain.readable_bytes - HEADER);
    net::Header header;
    if (!read_buffers(m_memory, m_chain.readable, 0, std::span(reinterpret_cast<uint8_t*>(&header), HEADER)).ok() ||
        net::sanitize_tx_header(header, m_features, frame_len) != net::TxReject::None)
        return false;
    m_iovecs.clear();
    m_iovecs.push_back({&header, HEADER});
    if (!buffer_iovecs(m_memory, m_chain.readable, HEADER, frame_len, m_iovecs).ok())
        return false;
    if (!pair.backend->send(m_iovecs).ok()) {
        ++m_stats.tx_errors;
        return true;
    }
    ++m_stats.tx_frames;
    m_stats.tx_bytes += frame_len;
    return true;
}

// §5.1.6.5: class, command, data in; one ack byte out. Only MQ_VQ_PAIRS_SET is supported.
Result<bool> Net::control(Virtqueue& queue) {
    size_t served = 0;
    for (; served < FRAMES_PER_CALL && TRY(queue.pop(m_chain)); ++served) {
        if (m_chain.readable_bytes < 2 || m_chain.writable_bytes < 1)
            return guest_fault("control command without class, command or ack byte");
        uint8_t command[4] = {};
        const size_t length = std::min<uint64_t>(sizeof command, m_chain.readable_bytes);
        TRY(read_buffers(m_memory, m_chain.readable, 0, std::span(command, length)));
        uint8_t ack = CTRL_ERR;
        if (command[0] == CTRL_MQ && command[1] == CTRL_MQ_VQ_PAIRS_SET && length == 4 &&
            (m_features & net::feature::MQ))
            ack = set_active_pairs(static_cast<uint16_t>(command[2] | command[3] << 8));
        TRY(write_buffers(m_memory, m_chain.writable, 0, std::span(&ack, 1)));
        TRY(queue.add_used(m_chain.head, 1));
    }
    return stopped_at_budget(served, FRAMES_PER_CALL, queue);
}

uint8_t Net::set_active_pairs(uint16_t count) {
    if (count < 1 || count > m_pairs.size())
        return CTRL_ERR;
    bool ok = true;
    for (size_t i = 0; i < m_pairs.size(); ++i)
        ok = m_pairs[i].backend->set_enabled(i < count).ok() && ok;
    m_active_pairs = count;
    return ok ? CTRL_OK : CTRL_ERR;
}

std::vector<CounterValue> Net::counters() const {
    return {{"rx_frames", m_stats.rx_frames}, {"rx_bytes", m_stats.rx_bytes}, {"rx_dropped", m_stats.rx_dropped},
            {"tx_frames", m_stats.tx_frames}, {"tx_bytes", m_stats.tx_bytes}, {"tx_dropped", m_stats.tx_dropped},
            {"tx_errors", m_stats.tx_errors}};
}

Net::State Net::save() const {
    State state{static_cast<uint32_t>(m_active_pairs), {}};
    for (const Pair& pair : m_pairs)
        state.waiting_frames.emplace_back(pair.frame.get(), pair.frame.get() + pair.frame_len);
    return state;
}

Status Net::restore(const State& state) {
    if (state.waiting_frames.size() != m_pairs.size())
        return Error(fmt::format("net state: {} pairs for a device with {}", state.waiting_frames.size(), m_pairs.size()));
    if (state.active_pairs < 1 || state.active_pairs > m_pairs.size())
        return Error(fmt::format("net state: {} active pairs of {}", state.active_pairs, m_pairs.size()));
    for (const auto& frame : state.waiting_frames) {
        if (frame.size() > RX_CAPACITY)
            return Error(fmt::format("net state: a waiting frame of {} bytes", frame.size()));
    }
    for (size_t i = 0; i < m_pairs.size(); ++i) {
        std::copy(state.waiting_frames[i].begin(), state.waiting_frames[i].end(), m_pairs[i].frame.get());
        m_pairs[i].frame_len = state.waiting_frames[i].size();
    }
    if (set_active_pairs(static_cast<uint16_t>(state.active_pairs)) != CTRL_OK)
        return Error(ErrorKind::HostResource, "net state: the TAP queues could not be enabled as saved");
    return {};
}

}  // namespace vmm::virtio
