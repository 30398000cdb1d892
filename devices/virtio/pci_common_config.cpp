// The common configuration structure of virtio-pci (VIRTIO 1.2 §4.1.4.3).
#include <cstring>

#include "devices/virtio/pci_transport.h"

namespace vmm::virtio {

namespace {

// struct virtio_pci_common_cfg offsets.
constexpr uint64_t DEVICE_FEATURE_SELECT = 0x00;
constexpr uint64_t DEVICE_FEATURE = 0x04;
constexpr uint64_t DRIVER_FEATURE_SELECT = 0x08;
constexpr uint64_t DRIVER_FEATURE = 0x0c;
constexpr uint64_t CONFIG_MSIX_VECTOR = 0x10;
constexpr uint64_t NUM_QUEUES = 0x12;
constexpr uint64_t DEVICE_STATUS = 0x14;
constexpr uint64_t CONFIG_GENERATION = 0x15;
constexpr uint64_t QUEUE_SELECT = 0x16;
constexpr uint64_t QUEUE_SIZE = 0x18;
constexpr uint64_t QUEUE_MSIX_VECTOR = 0x1a;
constexpr uint64_t QUEUE_ENABLE = 0x1c;
constexpr uint64_t QUEUE_NOTIFY_OFF = 0x1e;
constexpr uint64_t QUEUE_DESC = 0x20;
constexpr uint64_t QUEUE_DRIVER = 0x28;
constexpr uint64_t QUEUE_DEVICE = 0x30;
constexpr uint64_t COMMON_END = 0x3c;  // queue_notify_data, queue_reset: not offered, read 0

// §4.1.3.1: fields are accessed with their own width, aligned; 64-bit fields as one access or
// as two 32-bit halves. Returns the field's width, or 0 for an access that fits no field.
size_t field_width(uint64_t offset) {
    if (offset >= COMMON_END)
        return 0;
    if (offset < CONFIG_MSIX_VECTOR || offset >= QUEUE_DESC)
        return 4;
    if (offset == DEVICE_STATUS || offset == CONFIG_GENERATION)
        return 1;
    return 2;
}

bool valid_access(uint64_t offset, size_t size) {
    const size_t width = field_width(offset);
    if (width == 0 || size != width || offset % width != 0)
        return size == 8 && offset >= QUEUE_DESC && offset % 8 == 0 && offset < COMMON_END - 4;
    return true;
}

}  // namespace

void PciTransport::reset_transport() {
    m_device_feature_select = m_driver_feature_select = 0;
    m_queue_select = 0;
    m_config_vector = NO_VECTOR;
    std::fill(m_queue_vectors.begin(), m_queue_vectors.end(), NO_VECTOR);
    m_isr = 0;
    update_intx();
    // §4.1.4.3.2: queue_size reads as the maximum after reset; the driver may lower it.
    for (uint32_t q = 0; q < m_core.queue_count(); ++q)
        m_core.set_queue_size(q, VirtioCore::max_queue_size());
}

// §4.1.5.1.2: a vector the device cannot map reads back as NO_VECTOR.
uint16_t PciTransport::accepted_vector(uint16_t vector) const {
    return vector < m_msix.vector_count() ? vector : NO_VECTOR;
}

void PciTransport::common_read(uint64_t offset, std::span<uint8_t> data) {
    using Ring = VirtioCore::Ring;
    if (!valid_access(offset, data.size()))
        return;
    const uint32_t q = m_queue_select;
    auto ring = [&](Ring which, uint64_t base) {
        const uint64_t value = m_core.queue_ring(q, which);
        return offset == base ? value : value >> 32;  // the whole field or its high half
    };
    uint64_t value = 0;
    switch (offset) {
    case DEVICE_FEATURE_SELECT: value = m_device_feature_select; break;
    case DEVICE_FEATURE: value = m_core.offered_features_word(m_device_feature_select); break;
    case DRIVER_FEATURE_SELECT: value = m_driver_feature_select; break;
    case DRIVER_FEATURE:
        value = m_driver_feature_select < 2 ? static_cast<uint32_t>(m_core.driver_features() >> (32 * m_driver_feature_select)) : 0;
        break;
    case CONFIG_MSIX_VECTOR: value = m_config_vector; break;
    case NUM_QUEUES: value = m_core.queue_count(); break;
    case DEVICE_STATUS: value = m_core.status() & 0xff; break;
    case CONFIG_GENERATION: value = m_core.config_generation() & 0xff; break;
    case QUEUE_SELECT: value = m_queue_select; break;
    case QUEUE_SIZE: value = m_core.queue_size(q); break;
    case QUEUE_MSIX_VECTOR: value = m_core.queue_exists(q) ? m_queue_vectors[q] : NO_VECTOR; break;
    case QUEUE_ENABLE: value = m_core.queue_ready(q) ? 1 : 0; break;
    case QUEUE_NOTIFY_OFF: value = m_core.queue_exists(q) ? q : 0; break;
    case QUEUE_DESC: case QUEUE_DESC + 4: value = ring(Ring::Descriptors, QUEUE_DESC); break;
    case QUEUE_DRIVER: case QUEUE_DRIVER + 4: value = ring(Ring::Driver, QUEUE_DRIVER); break;
    case QUEUE_DEVICE: case QUEUE_DEVICE + 4: value = ring(Ring::Device, QUEUE_DEVICE); break;
    default: break;
    }
    std::memcpy(data.data(), &value, data.size());
}

void PciTransport::common_write(uint64_t offset, std::span<const uint8_t> data) {
    using Ring = VirtioCore::Ring;
    if (!valid_access(offset, data.size()))
        return;
    uint64_t value = 0;
    std::memcpy(&value, data.data(), data.size());
    const uint32_t q = m_queue_select;
    auto set_ring = [&](Ring which, uint64_t base) {
        if (data.size() == 8) {
            m_core.set_queue_ring_half(q, which, false, static_cast<uint32_t>(value));
            m_core.set_queue_ring_half(q, which, true, static_cast<uint32_t>(value >> 32));
        } else {
            m_core.set_queue_ring_half(q, which, offset != base, static_cast<uint32_t>(value));
        }
    };
    switch (offset) {
    case DEVICE_FEATURE_SELECT: m_device_feature_select = static_cast<uint32_t>(value); break;
    case DRIVER_FEATURE_SELECT: m_driver_feature_select = static_cast<uint32_t>(value); break;
    case DRIVER_FEATURE: m_core.set_driver_features_word(m_driver_feature_select, static_cast<uint32_t>(value)); break;
    case CONFIG_MSIX_VECTOR: m_config_vector = accepted_vector(static_cast<uint16_t>(value)); break;
    case DEVICE_STATUS:
        m_core.write_status(static_cast<uint32_t>(value));
        if (value == 0)  // §4.1.4.3.1: the reset also clears the transport's own state
            reset_transport();
        break;
    case QUEUE_SELECT: m_queue_select = static_cast<uint16_t>(value); break;
    case QUEUE_SIZE: m_core.set_queue_size(q, static_cast<uint32_t>(value)); break;
    case QUEUE_MSIX_VECTOR:
        if (m_core.queue_exists(q))
            m_queue_vectors[q] = accepted_vector(static_cast<uint16_t>(value));
        break;
    case QUEUE_ENABLE:
        // §4.1.4.3.2: the driver MUST NOT write 0 (disabling is a reset); ignored.
        if (value == 1)
            m_core.set_queue_ready(q, true);
        break;
    case QUEUE_DESC: case QUEUE_DESC + 4: set_ring(Ring::Descriptors, QUEUE_DESC); break;
    case QUEUE_DRIVER: case QUEUE_DRIVER + 4: set_ring(Ring::Driver, QUEUE_DRIVER); break;
    case QUEUE_DEVICE: case QUEUE_DEVICE + 4: set_ring(Ring::Device, QUEUE_DEVICE); break;
    default: break;  // read-only
    }
}

}  // namespace vmm::virtio
