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

}  // namespace

MmioTransport::MmioTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory,
                             Interrupt& interrupt)
    : CoreTransport(std::move(device), memory, *this), m_interrupt(interrupt) {}

std::string MmioTransport::cmdline_announcement(uint64_t base, uint32_t irq) {
    return fmt::format("virtio_mmio.device={}K@{:#x}:{}", SIZE / 1024, base, irq);
}

void MmioTransport::signal_used(uint16_t) {
    m_interrupt_status |= INTERRUPT_USED_BUFFER;
    m_interrupt.trigger();
}

void MmioTransport::signal_config() {
    m_interrupt_status |= INTERRUPT_CONFIG_CHANGE;
    m_interrupt.trigger();
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
        if (auto at = m_core.config_offset(offset - CONFIG, data.size()))
            m_core.device().read_config(*at, data);
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
            if (auto at = m_core.config_offset(offset - CONFIG, data.size()))
                m_core.device().write_config(*at, data);
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
    case DEVICE_ID: return m_core.device().device_id();
    case VENDOR_ID: return VENDOR;
    case DEVICE_FEATURES: return m_core.offered_features_word(m_device_features_sel);
    case QUEUE_NUM_MAX: return m_core.queue_exists(m_queue_sel) ? VirtioCore::max_queue_size() : 0;
    case QUEUE_READY: return m_core.queue_ready(m_queue_sel) ? 1 : 0;
    case INTERRUPT_STATUS: return m_interrupt_status;
    case STATUS: return m_core.status();
    case CONFIG_GENERATION: return m_core.config_generation();
    default:
        // §4.2.2: no shared memory regions: length and base read as all ones.
        if (offset >= SHM_LEN_LOW && offset <= SHM_BASE_HIGH)
            return 0xffffffff;
        return 0;
    }
}

void MmioTransport::write_register(uint64_t offset, uint32_t value) {
    using Ring = VirtioCore::Ring;
    const uint32_t q = m_queue_sel;
    switch (offset) {
    case DEVICE_FEATURES_SEL: m_device_features_sel = value; break;
    case DRIVER_FEATURES_SEL: m_driver_features_sel = value; break;
    case DRIVER_FEATURES: m_core.set_driver_features_word(m_driver_features_sel, value); break;
    case QUEUE_SEL: m_queue_sel = value; break;
    case QUEUE_NUM: m_core.set_queue_size(q, value); break;
    case QUEUE_DESC_LOW: case QUEUE_DESC_HIGH:
        m_core.set_queue_ring_half(q, Ring::Descriptors, offset == QUEUE_DESC_HIGH, value);
        break;
    case QUEUE_DRIVER_LOW: case QUEUE_DRIVER_HIGH:
        m_core.set_queue_ring_half(q, Ring::Driver, offset == QUEUE_DRIVER_HIGH, value);
        break;
    case QUEUE_DEVICE_LOW: case QUEUE_DEVICE_HIGH:
        m_core.set_queue_ring_half(q, Ring::Device, offset == QUEUE_DEVICE_HIGH, value);
        break;
    case QUEUE_READY: m_core.set_queue_ready(q, value == 1); break;
    case INTERRUPT_ACK: m_interrupt_status &= ~value; break;
    case STATUS:
        m_core.write_status(value);
        if (value == 0) {  // §4.2.2.1: the reset also clears the transport's own registers
            m_device_features_sel = m_driver_features_sel = m_queue_sel = 0;
            m_interrupt_status = 0;
        }
        break;
    default: break;  // read-only or unknown: ignored
    }
}

MmioTransport::State MmioTransport::save() const {
    std::lock_guard lock(m_mutex);
    return {m_core.save(), m_device_features_sel, m_driver_features_sel, m_queue_sel, m_interrupt_status};
}

Status MmioTransport::restore(const State& state) {
    std::lock_guard lock(m_mutex);
    TRY(m_core.restore(state.core));
    m_device_features_sel = state.device_features_sel;
    m_driver_features_sel = state.driver_features_sel;
    m_queue_sel = state.queue_sel;
    m_interrupt_status = state.interrupt_status & (INTERRUPT_USED_BUFFER | INTERRUPT_CONFIG_CHANGE);
    return {};
}

}  // namespace vmm::virtio
