#include "devices/virtio/virtio_core.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/rate_limiter.h"
#include "devices/virtio/virtio.h"

namespace vmm::virtio {

namespace {

void set_half(uint64_t& value, bool high, uint32_t half) {
    const unsigned shift = high ? 32 : 0;
    value = (value & ~(0xffffffffull << shift)) | (uint64_t(half) << shift);
}

}  // namespace

VirtioCore::VirtioCore(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, VirtioInterrupt& interrupt)
    : m_device(std::move(device)), m_memory(memory), m_interrupt(interrupt), m_queues(m_device->queue_count()) {}

uint64_t VirtioCore::offered_features() const {
    return m_device->device_features() | feature::VERSION_1 | m_device->ring_features();
}

uint32_t VirtioCore::offered_features_word(uint32_t select) const {
    return select < 2 ? static_cast<uint32_t>(offered_features() >> (32 * select)) : 0;
}

void VirtioCore::set_driver_features_word(uint32_t select, uint32_t value) {
    // §2.2: features are fixed once FEATURES_OK is set.
    if (select < 2 && !(m_status & status::FEATURES_OK))
        set_half(m_driver_features, select == 1, value);
}

void VirtioCore::write_status(uint32_t value) {
    if (value == 0) {  // §2.4: writing zero resets the device
        reset();
        return;
    }
    uint32_t added = value & ~m_status;
    // §3.1.1: the driver only adds bits, in order ACKNOWLEDGE, DRIVER, FEATURES_OK, DRIVER_OK.
    if ((m_status & ~value) || ((added & status::DRIVER) && !(value & status::ACKNOWLEDGE)) ||
        ((added & status::FEATURES_OK) && !(value & status::DRIVER)) ||
        ((added & status::DRIVER_OK) && !(value & status::FEATURES_OK)) ||
        (added & status::DEVICE_NEEDS_RESET)) {
        needs_reset(fmt::format("illegal status transition {:#x} -> {:#x}", m_status, value));
        return;
    }
    if (added & status::FEATURES_OK) {
        // §2.2.2: accept only a subset of what was offered, and VERSION_1 for a modern device.
        if ((m_driver_features & ~offered_features()) || !(m_driver_features & feature::VERSION_1))
            value &= ~status::FEATURES_OK;
    }
    // §3.1.1: DRIVER_OK only after FEATURES_OK was accepted, also when both come in one write.
    if ((added & status::DRIVER_OK) && !(value & status::FEATURES_OK)) {
        value &= ~status::DRIVER_OK;
        added &= ~status::DRIVER_OK;
    }
    // A driver sets up only the queues it uses (a NIC's control queue or extra pairs may stay
    // off); a queue that is not ready is simply never served.
    if (added & status::DRIVER_OK)
        m_device->activate(m_driver_features);
    m_status = value;
    if (ExternalRings* rings = m_device->external_rings(); rings && (added & status::DRIVER_OK))
        start_external_rings(*rings);
}

void VirtioCore::start_external_rings(ExternalRings& rings) {
    std::vector<ExternalRings::Queue> ready;
    for (uint32_t i = 0; i < m_queues.size(); ++i)
        if (m_queues[i].ready)
            ready.push_back({i, m_queues[i].layout});
    if (auto started = rings.start(m_driver_features, ready); !started.ok())
        needs_reset(started.error().message());
}

bool VirtioCore::running() const {
    return (m_status & status::DRIVER_OK) && !(m_status & (status::DEVICE_NEEDS_RESET | status::FAILED));
}

void VirtioCore::needs_reset(const std::string& why) {
    if (allow_guest_message())
        spdlog::warn("virtio ({}): {}; device needs reset", m_device->device_id(), why);
    m_status |= status::DEVICE_NEEDS_RESET;
    for (auto& q : m_queues) {
        q.queue.reset();
        q.ready = false;
    }
    // §2.1.2: with DRIVER_OK set, tell the driver through a configuration change interrupt.
    if (m_status & status::DRIVER_OK)
        m_interrupt.signal_config();
}

void VirtioCore::reset() {
    m_device->reset();
    for (auto& q : m_queues)
        q = Queue{};
    m_status = 0;
    m_driver_features = 0;
}

bool VirtioCore::queue_writable(uint32_t index) const {
    // §4.2.3.2: queue registers are set up before the queue is enabled; a ready queue's layout
    // is fixed.
    return queue_exists(index) && !m_queues[index].ready && !(m_status & status::DRIVER_OK);
}

uint64_t VirtioCore::queue_ring(uint32_t index, Ring ring) const {
    if (!queue_exists(index))
        return 0;
    const QueueLayout& l = m_queues[index].layout;
    switch (ring) {
    case Ring::Descriptors: return l.desc_table;
    case Ring::Driver: return l.avail_ring;
    case Ring::Device: return l.used_ring;
    }
    return 0;
}

void VirtioCore::set_queue_size(uint32_t index, uint32_t size) {
    if (queue_writable(index))
        m_queues[index].layout.size = size <= 0xffff ? static_cast<uint16_t>(size) : 0;  // 0: rejected at ready
}

void VirtioCore::set_queue_ring_half(uint32_t index, Ring ring, bool high, uint32_t value) {
    if (!queue_writable(index))
        return;
    QueueLayout& l = m_queues[index].layout;
    switch (ring) {
    case Ring::Descriptors: set_half(l.desc_table, high, value); break;
    case Ring::Driver: set_half(l.avail_ring, high, value); break;
    case Ring::Device: set_half(l.used_ring, high, value); break;
    }
}

void VirtioCore::set_queue_ready(uint32_t index, bool ready) {
    if (!queue_exists(index))
        return;
    Queue& q = m_queues[index];
    if (!ready) {
        q.ready = false;
        q.queue.reset();
        return;
    }
    if (q.ready || !(m_status & status::FEATURES_OK))
        return;
    const bool event_idx = m_driver_features & feature::RING_EVENT_IDX;
    const bool indirect = m_driver_features & feature::RING_INDIRECT_DESC;
    auto queue = Virtqueue::create(m_memory, q.layout, event_idx, indirect);
    if (!queue.ok()) {
        needs_reset(queue.error().message());
        return;
    }
    q.queue.emplace(std::move(queue).value());
    q.ready = true;
}

std::optional<uint64_t> VirtioCore::config_offset(uint64_t offset, size_t size) const {
    if (offset < config_size() && size <= config_size() - offset)
        return offset;
    return std::nullopt;
}

void VirtioCore::config_changed() {
    ++m_config_generation;
    if (m_status & status::DRIVER_OK)
        m_interrupt.signal_config();
}

bool VirtioCore::notify(uint32_t index) {
    if (!queue_exists(index))
        return false;
    Queue& q = m_queues[index];
    if (!running() || !q.queue)
        return false;
    if (ExternalRings* rings = m_device->external_rings()) {
        rings->kick(index);
        return false;
    }
    auto more = m_device->process_queue(index, *q.queue);
    if (!more.ok()) {
        needs_reset(more.error().message());
        return false;
    }
    auto notify = q.queue->should_notify();
    if (!notify.ok()) {
        needs_reset(notify.error().message());
        return false;
    }
    if (*notify)
        m_interrupt.signal_used(static_cast<uint16_t>(index));
    return *more;
}

void VirtioCore::external_used(uint32_t index) {
    if (running() && queue_ready(index))
        m_interrupt.signal_used(static_cast<uint16_t>(index));
}

VirtioCore::State VirtioCore::save() const {
    State state{m_status, m_driver_features, m_config_generation, {}};
    for (const auto& q : m_queues)
        state.queues.push_back({q.layout, q.ready, q.queue ? std::optional(q.queue->save()) : std::nullopt});
    return state;
}

Status VirtioCore::restore(const State& state) {
    constexpr uint32_t KNOWN = status::ACKNOWLEDGE | status::DRIVER | status::DRIVER_OK | status::FEATURES_OK |
                               status::DEVICE_NEEDS_RESET | status::FAILED;
    if (state.status & ~KNOWN)
        return Error(fmt::format("virtio state: unknown status bits {:#x}", state.status & ~KNOWN));
    if (state.queues.size() != m_queues.size())
        return Error(fmt::format("virtio state: {} queues for a device with {}", state.queues.size(), m_queues.size()));
    if (state.driver_features & ~offered_features())
        return Error("virtio state: features the device does not offer");
    std::vector<Queue> queues(m_queues.size());
    for (size_t i = 0; i < queues.size(); ++i) {
        const QueueState& saved = state.queues[i];
        if (saved.ready != saved.queue.has_value())
            return Error(fmt::format("virtio state: queue {} is ready without its state, or the reverse", i));
        queues[i].layout = saved.layout;
        queues[i].ready = saved.ready;
        if (saved.queue)
            queues[i].queue.emplace(TRY_CTX(Virtqueue::restore(m_memory, *saved.queue), fmt::format("queue {}", i)));
    }
    m_queues = std::move(queues);
    m_status = state.status;
    m_driver_features = state.driver_features;
    m_config_generation = state.config_generation;
    if (m_status & status::DRIVER_OK)
        m_device->activate(m_driver_features);
    return {};
}

}  // namespace vmm::virtio
