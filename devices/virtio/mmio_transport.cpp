#include "devices/virtio/mmio_transport.h"

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/virtio.h"
#include "base/rate_limiter.h"

namespace vmm::virtio {

namespace {

// §4.2.2 MMIO device register layout.
constexpr uint64_t MAGIC_VALUE = 0x000;
constexpr uint64_t VERSION = 0x004;
constexpr uint64_t DEVICE_ID = 0x008;
constexpr uint64_t VENDOR_ID = 0x00c;
constexpr uint64_t DEVICE_FEATURES = 0x010;
constexpr uint64_t DEVICE_FEATURES_SEL = 0x014;
constexpr uint64_t DRIVER_FEATURES = 0x020;
constexpr uint64_t DRIVER_FEATURES_SEL = 0x024;
constexpr uint64_t QUEUE_SEL = 0x030;
constexpr uint64_t QUEUE_NUM_MAX = 0x034;
constexpr uint64_t QUEUE_NUM = 0x038;
constexpr uint64_t QUEUE_READY = 0x044;
constexpr uint64_t INTERRUPT_STATUS = 0x060;
constexpr uint64_t INTERRUPT_ACK = 0x064;
constexpr uint64_t STATUS = 0x070;
constexpr uint64_t QUEUE_DESC_LOW = 0x080;
constexpr uint64_t QUEUE_DESC_HIGH = 0x084;
constexpr uint64_t QUEUE_DRIVER_LOW = 0x090;
constexpr uint64_t QUEUE_DRIVER_HIGH = 0x094;
constexpr uint64_t QUEUE_DEVICE_LOW = 0x0a0;
constexpr uint64_t QUEUE_DEVICE_HIGH = 0x0a4;
constexpr uint64_t SHM_LEN_LOW = 0x0b0;
constexpr uint64_t SHM_BASE_HIGH = 0x0bc;
constexpr uint64_t CONFIG_GENERATION = 0x0fc;
constexpr uint64_t CONFIG = 0x100;

constexpr uint32_t MAGIC = 0x74726976;  // "virt"
constexpr uint32_t MMIO_VERSION = 2;
constexpr uint32_t VENDOR = 0x4d424d45;  // "EMBM"

void set_half(uint64_t& value, bool high, uint32_t half) {
    const unsigned shift = high ? 32 : 0;
    value = (value & ~(0xffffffffull << shift)) | (uint64_t(half) << shift);
}

}  // namespace

MmioTransport::MmioTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory,
                             Interrupt& interrupt)
    : m_device(std::move(device)), m_memory(memory), m_interrupt(interrupt),
      m_queues(m_device->queue_count()) {}

uint64_t MmioTransport::offered_features() const {
    return m_device->device_features() | feature::VERSION_1 | feature::RING_EVENT_IDX |
           feature::RING_INDIRECT_DESC;
}

uint32_t MmioTransport::status() const {
    std::lock_guard lock(m_mutex);
    return m_status;
}

MmioTransport::QueueState* MmioTransport::selected_queue() {
    return m_queue_sel < m_queues.size() ? &m_queues[m_queue_sel] : nullptr;
}

std::optional<uint64_t> MmioTransport::config_offset(uint64_t offset, size_t size) const {
    const uint64_t at = offset - CONFIG;
    if (at < m_device->config_size() && size <= m_device->config_size() - at)
        return at;
    return std::nullopt;
}

bool MmioTransport::register_access_ok(uint64_t offset, size_t size, const char* what) {
    // §4.2.2.2: the driver MUST use 32-bit wide, aligned accesses for the registers.
    if (size == 4 && offset % 4 == 0)
        return true;
    if (allow_guest_message())
        spdlog::warn("virtio-mmio: ignoring {}-byte register {} at {:#x}", size, what, offset);
    return false;
}

void MmioTransport::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard lock(m_mutex);
    if (offset >= CONFIG) {
        if (auto at = config_offset(offset, data.size()))
            m_device->read_config(*at, data);
        return;
    }
    if (!register_access_ok(offset, data.size(), "read"))
        return;
    const uint32_t value = read_register(offset);
    std::memcpy(data.data(), &value, sizeof value);
}

void MmioTransport::write(uint64_t offset, std::span<const uint8_t> data) {
    uint32_t value = 0;
    {
        std::lock_guard lock(m_mutex);
        if (offset >= CONFIG) {
            if (auto at = config_offset(offset, data.size()))
                m_device->write_config(*at, data);
            return;
        }
        if (!register_access_ok(offset, data.size(), "write"))
            return;
        std::memcpy(&value, data.data(), sizeof value);
        if (offset != QUEUE_NOTIFY) {
            write_register(offset, value);
            return;
        }
    }
    // Valid queue indices are caught by their ioeventfd and never get here; this path serves
    // only set-ups without one (tests, fuzzers). Work beyond the budget waits for the next
    // notification.
    (void)notify(value);
}

uint32_t MmioTransport::read_register(uint64_t offset) {
    switch (offset) {
    case MAGIC_VALUE: return MAGIC;
    case VERSION: return MMIO_VERSION;
    case DEVICE_ID: return m_device->device_id();
    case VENDOR_ID: return VENDOR;
    case DEVICE_FEATURES:
        return m_device_features_sel < 2
                   ? static_cast<uint32_t>(offered_features() >> (32 * m_device_features_sel))
                   : 0;
    case QUEUE_NUM_MAX: return selected_queue() ? Virtqueue::MAX_SIZE : 0;
    case QUEUE_READY: return selected_queue() && selected_queue()->ready ? 1 : 0;
    case INTERRUPT_STATUS: return m_interrupt_status;
    case STATUS: return m_status;
    case CONFIG_GENERATION: return m_config_generation;
    default:
        // §4.2.2: no shared memory regions: length and base read as all ones.
        if (offset >= SHM_LEN_LOW && offset <= SHM_BASE_HIGH)
            return 0xffffffff;
        return 0;
    }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
    QueueState* q = selected_queue();
    // §4.2.3.2: queue registers are set up before the queue is enabled; a ready queue's
    // layout is fixed.
    const bool queue_writable = q && !q->ready && !(m_status & status::DRIVER_OK);
    switch (offset) {
    case DEVICE_FEATURES_SEL: m_device_features_sel = value; break;
    case DRIVER_FEATURES_SEL: m_driver_features_sel = value; break;
    case DRIVER_FEATURES:
        // §2.2: features are fixed once FEATURES_OK is set.
        if (m_driver_features_sel < 2 && !(m_status & status::FEATURES_OK))
            set_half(m_driver_features, m_driver_features_sel == 1, value);
        break;
    case QUEUE_SEL: m_queue_sel = value; break;
    case QUEUE_NUM:
        if (queue_writable)
            q->layout.size = value <= 0xffff ? static_cast<uint16_t>(value) : 0;  // 0: rejected at ready
        break;
    case QUEUE_DESC_LOW: case QUEUE_DESC_HIGH:
        if (queue_writable) set_half(q->layout.desc_table, offset == QUEUE_DESC_HIGH, value);
        break;
    case QUEUE_DRIVER_LOW: case QUEUE_DRIVER_HIGH:
        if (queue_writable) set_half(q->layout.avail_ring, offset == QUEUE_DRIVER_HIGH, value);
        break;
    case QUEUE_DEVICE_LOW: case QUEUE_DEVICE_HIGH:
        if (queue_writable) set_half(q->layout.used_ring, offset == QUEUE_DEVICE_HIGH, value);
        break;
    case QUEUE_READY:
        if (q)
            set_queue_ready(*q, value == 1);
        break;
    case INTERRUPT_ACK: m_interrupt_status &= ~value; break;
    case STATUS: write_status(value); break;
    default: break;  // read-only or unknown: ignored
    }
}

void MmioTransport::set_queue_ready(QueueState& q, bool ready) {
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

void MmioTransport::write_status(uint32_t value) {
    if (value == 0) {  // §4.2.2.1: writing zero resets the device
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
}

void MmioTransport::needs_reset(const std::string& why) {
    if (allow_guest_message())
        spdlog::warn("virtio-mmio ({}): {}; device needs reset", m_device->device_id(), why);
    m_status |= status::DEVICE_NEEDS_RESET;
    for (auto& q : m_queues) {
        q.queue.reset();
        q.ready = false;
    }
    // §2.1.2: with DRIVER_OK set, tell the driver through a configuration change interrupt.
    if (m_status & status::DRIVER_OK) {
        m_interrupt_status |= INTERRUPT_CONFIG_CHANGE;
        m_interrupt.trigger();
    }
}

void MmioTransport::reset() {
    m_device->reset();
    for (auto& q : m_queues)
        q = QueueState{};
    m_status = 0;
    m_driver_features = 0;
    m_device_features_sel = m_driver_features_sel = m_queue_sel = 0;
    m_interrupt_status = 0;
}

bool MmioTransport::notify(uint32_t index) {
    std::lock_guard lock(m_mutex);
    return index < m_queues.size() && process(index);
}

bool MmioTransport::process(size_t index) {
    QueueState& q = m_queues[index];
    if (!(m_status & status::DRIVER_OK) || (m_status & (status::DEVICE_NEEDS_RESET | status::FAILED)) ||
        !q.queue)
        return false;
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
    if (*notify) {
        m_interrupt_status |= INTERRUPT_USED_BUFFER;
        m_interrupt.trigger();
    }
    return *more;
}

}  // namespace vmm::virtio
