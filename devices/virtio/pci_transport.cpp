#include "devices/virtio/pci_transport.h"

#include <cstring>

#include "devices/virtio/virtio.h"

namespace vmm::virtio {

namespace {

// §4.1.4 virtio_pci_cap cfg_type values.
constexpr uint8_t CAP_COMMON = 1;
constexpr uint8_t CAP_NOTIFY = 2;
constexpr uint8_t CAP_ISR = 3;
constexpr uint8_t CAP_DEVICE = 4;
constexpr uint8_t CAP_PCI_CFG = 5;
// Offsets inside struct virtio_pci_cap (from the capability's start).
constexpr size_t CAP_BAR = 4;
constexpr size_t CAP_OFFSET = 8;
constexpr size_t CAP_LENGTH = 12;
constexpr size_t CAP_PCI_CFG_DATA = 16;
constexpr size_t VIRTIO_CAP_LENGTH = 16;

constexpr uint8_t ISR_QUEUE = INTERRUPT_USED_BUFFER;
constexpr uint8_t ISR_CONFIG = INTERRUPT_CONFIG_CHANGE;

// Class codes as QEMU gives its virtio-pci functions (PCI 3.0 Appendix D).
uint32_t class_code(uint32_t device_id) {
    switch (device_id) {
    case device_id::NET: return 0x020000;      // Ethernet controller
    case device_id::BLOCK: return 0x010000;    // SCSI storage controller
    case device_id::CONSOLE: return 0x078000;  // other communication controller
    default: return 0x00ff00;                  // other
    }
}

pci::PciId pci_id(const VirtioDevice& device) {
    const auto id = static_cast<uint16_t>(PciTransport::DEVICE_BASE + device.device_id());
    // Revision 1: a modern-only device (§4.1.2.1); the subsystem ids name the type again.
    return {PciTransport::VENDOR, id, 1, class_code(device.device_id()), PciTransport::VENDOR, id};
}

// The body of a virtio_pci_cap after cap_vndr and cap_next, with `extra` bytes following.
std::vector<uint8_t> virtio_cap(uint8_t type, uint64_t offset, uint64_t length, size_t extra) {
    std::vector<uint8_t> body(VIRTIO_CAP_LENGTH - 2 + extra, 0);
    body[0] = static_cast<uint8_t>(VIRTIO_CAP_LENGTH + extra);  // cap_len
    body[1] = type;
    body[2] = 0;  // BAR 0
    for (size_t i = 0; i < 4; ++i) {
        body[CAP_OFFSET - 2 + i] = static_cast<uint8_t>(offset >> (8 * i));
        body[CAP_LENGTH - 2 + i] = static_cast<uint8_t>(length >> (8 * i));
    }
    return body;
}

bool inside(uint64_t offset, size_t size, uint64_t start, uint64_t length) {
    return offset >= start && offset - start < length && size <= length - (offset - start);
}

bool overlaps(uint64_t offset, size_t size, uint64_t start, uint64_t length) {
    return offset < start + length && start < offset + size;
}

}  // namespace

PciTransport::PciTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, const Wiring& wiring)
    : CoreTransport(std::move(device), memory, *this),
      m_intx(wiring.intx),
      m_bars(wiring.bars),
      m_config(pci_id(m_core.device()), 1 /* INTA# */),
      m_msix(static_cast<uint16_t>(m_core.queue_count() + 1), wiring.msi),
      m_queue_vectors(m_core.queue_count(), NO_VECTOR) {
    m_config.add_memory_bar(0, BAR_SIZE, true);
    add_capabilities();
    reset_transport();
}

void PciTransport::add_capabilities() {
    auto add_virtio = [&](const std::vector<uint8_t>& body, const std::vector<uint8_t>& writable) {
        return m_config.add_capability(pci::capability::VENDOR, body, writable);
    };
    const std::vector<uint8_t> read_only(VIRTIO_CAP_LENGTH - 2, 0);
    add_virtio(virtio_cap(CAP_COMMON, COMMON_OFFSET, REGION_SIZE, 0), read_only);
    auto notify = virtio_cap(CAP_NOTIFY, NOTIFY_OFFSET, queue_notify_offset(static_cast<uint32_t>(queue_count())) - NOTIFY_OFFSET, 4);
    std::memcpy(&notify[VIRTIO_CAP_LENGTH - 2], &NOTIFY_OFF_MULTIPLIER, 4);
    add_virtio(notify, std::vector<uint8_t>(notify.size(), 0));
    add_virtio(virtio_cap(CAP_ISR, ISR_OFFSET, 1, 0), read_only);
    if (m_core.config_size() > 0)
        add_virtio(virtio_cap(CAP_DEVICE, DEVICE_OFFSET, m_core.config_size(), 0), read_only);
    // §4.1.4.9: the driver writes bar, offset and length, then accesses pci_cfg_data.
    std::vector<uint8_t> cfg_writable(VIRTIO_CAP_LENGTH - 2 + 4, 0);
    cfg_writable[CAP_BAR - 2] = 0xff;
    for (size_t i = 0; i < 4; ++i)
        cfg_writable[CAP_OFFSET - 2 + i] = cfg_writable[CAP_LENGTH - 2 + i] = cfg_writable[CAP_PCI_CFG_DATA - 2 + i] = 0xff;
    m_pci_cfg_cap = add_virtio(virtio_cap(CAP_PCI_CFG, 0, 0, 4), cfg_writable);

    // PCI 3.0 §6.8.2: Message Control (table size read-only; enable and function mask
    // writable), then the table's and the PBA's offsets in BAR 0.
    std::vector<uint8_t> msix(10, 0);
    const uint16_t control = m_msix.table_size_field();
    const uint32_t table = MSIX_TABLE_OFFSET, pba = MSIX_PBA_OFFSET;
    std::memcpy(&msix[0], &control, 2);
    std::memcpy(&msix[2], &table, 4);
    std::memcpy(&msix[6], &pba, 4);
    std::vector<uint8_t> msix_writable(10, 0);
    msix_writable[1] = static_cast<uint8_t>((pci::Msix::CONTROL_ENABLE | pci::Msix::CONTROL_FUNCTION_MASK) >> 8);
    m_msix_cap = m_config.add_capability(pci::capability::MSIX, msix, msix_writable);
}

void PciTransport::assign_bar(uint64_t address) {
    std::lock_guard lock(m_mutex);
    m_config.set_bar_address(0, address);
    m_config.set_command_bits(pci::command::MEMORY | pci::command::BUS_MASTER);
    track_bar();
}

void PciTransport::track_bar() {
    std::optional<uint64_t> now = m_config.bar_address(0);
    // A BAR that would wrap the address space decodes nothing.
    if (now && *now > ~uint64_t{0} - BAR_SIZE)
        now.reset();
    if (now == m_bar)
        return;
    const auto from = m_bar;
    m_bar = now;
    m_bars.bar_moved(0, from, now);
}

void PciTransport::config_read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard lock(m_mutex);
    if (m_pci_cfg_cap && overlaps(offset, data.size(), m_pci_cfg_cap + CAP_PCI_CFG_DATA, 4))
        (void)pci_cfg_window(false);
    m_config.read(offset, data);
}

void PciTransport::config_write(uint64_t offset, std::span<const uint8_t> data) {
    std::optional<uint32_t> queue;
    {
        std::lock_guard lock(m_mutex);
        m_config.write(offset, data);
        if (m_msix_cap && overlaps(offset, data.size(), m_msix_cap + 2, 2))
            m_msix.set_control(m_config.load16(m_msix_cap + 2));
        if (m_pci_cfg_cap && overlaps(offset, data.size(), m_pci_cfg_cap + CAP_PCI_CFG_DATA, 4))
            queue = pci_cfg_window(true);
        track_bar();
        update_intx();
    }
    if (queue)
        (void)notify(*queue);
}

// §4.1.4.9.1: an access of `length` (1, 2 or 4) bytes at `offset` into the BAR the capability
// names; anything else is ignored (and a read leaves the data as it was).
std::optional<uint32_t> PciTransport::pci_cfg_window(bool write) {
    const size_t cap = m_pci_cfg_cap;
    const uint8_t bar = static_cast<uint8_t>(m_config.load16(cap + CAP_BAR));
    const uint32_t offset = m_config.load32(cap + CAP_OFFSET);
    const uint32_t length = m_config.load32(cap + CAP_LENGTH);
    if (bar != 0 || !(length == 1 || length == 2 || length == 4) || offset % length != 0 || offset >= BAR_SIZE)
        return std::nullopt;
    uint8_t bytes[4] = {};
    if (write) {
        m_config.read(cap + CAP_PCI_CFG_DATA, std::span(bytes, length));
        return bar_write(offset, std::span<const uint8_t>(bytes, length));
    }
    bar_read(offset, std::span(bytes, length));
    m_config.store_bytes(cap + CAP_PCI_CFG_DATA, std::span<const uint8_t>(bytes, length));
    return std::nullopt;
}

bool PciTransport::mmio_read(uint64_t address, std::span<uint8_t> data) {
    std::lock_guard lock(m_mutex);
    if (!m_bar || !inside(address, data.size(), *m_bar, BAR_SIZE))
        return false;
    bar_read(address - *m_bar, data);
    return true;
}

bool PciTransport::mmio_write(uint64_t address, std::span<const uint8_t> data) {
    std::optional<uint32_t> queue;
    {
        std::lock_guard lock(m_mutex);
        if (!m_bar || !inside(address, data.size(), *m_bar, BAR_SIZE))
            return false;
        queue = bar_write(address - *m_bar, data);
    }
    // Notifications normally reach their ioeventfd and never get here; this path serves
    // accesses KVM does not match (other widths) and set-ups without one (tests, fuzzers).
    if (queue)
        (void)notify(*queue);
    return true;
}

void PciTransport::bar_read(uint64_t offset, std::span<uint8_t> data) {
    if (inside(offset, data.size(), COMMON_OFFSET, REGION_SIZE)) {
        common_read(offset - COMMON_OFFSET, data);
    } else if (offset == ISR_OFFSET && data.size() == 1) {
        // §4.1.4.5: reading ISR status returns and clears it, and deasserts INTx.
        data[0] = m_isr;
        m_isr = 0;
        update_intx();
    } else if (inside(offset, data.size(), DEVICE_OFFSET, REGION_SIZE)) {
        if (auto at = m_core.config_offset(offset - DEVICE_OFFSET, data.size()))
            m_core.device().read_config(*at, data);
    } else if (inside(offset, data.size(), MSIX_TABLE_OFFSET, REGION_SIZE)) {
        m_msix.read_table(offset - MSIX_TABLE_OFFSET, data);
    } else if (inside(offset, data.size(), MSIX_PBA_OFFSET, REGION_SIZE)) {
        m_msix.read_pba(offset - MSIX_PBA_OFFSET, data);
    }
}

std::optional<uint32_t> PciTransport::bar_write(uint64_t offset, std::span<const uint8_t> data) {
    if (inside(offset, data.size(), COMMON_OFFSET, REGION_SIZE)) {
        common_write(offset - COMMON_OFFSET, data);
    } else if (inside(offset, data.size(), DEVICE_OFFSET, REGION_SIZE)) {
        if (auto at = m_core.config_offset(offset - DEVICE_OFFSET, data.size()))
            m_core.device().write_config(*at, data);
    } else if (inside(offset, data.size(), NOTIFY_OFFSET, REGION_SIZE)) {
        // §4.1.4.4: queue q's address; the value written (its index) adds nothing.
        const uint64_t at = offset - NOTIFY_OFFSET;
        if (at % NOTIFY_OFF_MULTIPLIER == 0 && (data.size() == 2 || data.size() == 4))
            return static_cast<uint32_t>(at / NOTIFY_OFF_MULTIPLIER);
    } else if (inside(offset, data.size(), MSIX_TABLE_OFFSET, REGION_SIZE)) {
        m_msix.write_table(offset - MSIX_TABLE_OFFSET, data);
    }
    return std::nullopt;  // ISR and PBA are read-only
}

void PciTransport::signal_used(uint16_t queue) {
    interrupt(queue < m_queue_vectors.size() ? m_queue_vectors[queue] : NO_VECTOR, ISR_QUEUE);
}

void PciTransport::signal_config() { interrupt(m_config_vector, ISR_CONFIG); }

// §4.1.5.3-4: with MSI-X on, a vector (none for NO_VECTOR); the configuration bit is still
// set in ISR. With it off, the ISR bit and INTx.
void PciTransport::interrupt(uint16_t vector, uint8_t isr_bit) {
    if (m_msix.enabled()) {
        if (isr_bit == ISR_CONFIG)
            m_isr |= ISR_CONFIG;
        if (vector != NO_VECTOR)
            m_msix.signal(vector);
        return;
    }
    m_isr |= isr_bit;
    update_intx();
}

void PciTransport::update_intx() {
    const bool pending = m_isr != 0 && !m_msix.enabled();
    m_config.set_interrupt_status(pending);
    const bool level = pending && !(m_config.command() & pci::command::INTX_DISABLE);
    if (level != m_intx_level) {
        m_intx_level = level;
        m_intx.set_level(level);
    }
}

}  // namespace vmm::virtio
