#include "devices/pci/pci_config.h"

#include <cstring>

namespace vmm::pci {

namespace {

constexpr uint8_t HEADER_TYPE_0 = 0x00;  // single function
constexpr uint32_t BAR_MEMORY_64BIT = 0x4;
constexpr uint32_t BAR_FLAGS = 0xf;  // memory BAR: space, type, prefetchable
// Status bits software clears by writing one (PCI 3.0 §6.2.3): parity, signalled/received
// aborts, SERR.
constexpr uint16_t STATUS_WRITE_CLEARS = 0xf900;
constexpr uint16_t COMMAND_WRITABLE = command::MEMORY | command::BUS_MASTER | command::INTX_DISABLE |
                                      (1u << 6) /* parity */ | (1u << 8) /* SERR */;

}  // namespace

PciConfig::PciConfig(const PciId& id, uint8_t interrupt_pin) {
    store16(reg::VENDOR_ID, id.vendor);
    store16(reg::DEVICE_ID, id.device);
    m_bytes[reg::REVISION] = id.revision;
    m_bytes[reg::CLASS_CODE] = static_cast<uint8_t>(id.class_code);
    m_bytes[reg::CLASS_CODE + 1] = static_cast<uint8_t>(id.class_code >> 8);
    m_bytes[reg::CLASS_CODE + 2] = static_cast<uint8_t>(id.class_code >> 16);
    m_bytes[reg::HEADER_TYPE] = HEADER_TYPE_0;
    store16(reg::SUBSYSTEM_VENDOR_ID, id.subsystem_vendor);
    store16(reg::SUBSYSTEM_ID, id.subsystem);
    m_bytes[reg::INTERRUPT_PIN] = interrupt_pin;

    m_writable[reg::COMMAND] = static_cast<uint8_t>(COMMAND_WRITABLE);
    m_writable[reg::COMMAND + 1] = static_cast<uint8_t>(COMMAND_WRITABLE >> 8);
    m_write_clears[reg::STATUS] = static_cast<uint8_t>(STATUS_WRITE_CLEARS);
    m_write_clears[reg::STATUS + 1] = static_cast<uint8_t>(STATUS_WRITE_CLEARS >> 8);
    m_writable[reg::CACHE_LINE] = 0xff;
    m_writable[reg::LATENCY_TIMER] = 0xff;
    m_writable[reg::INTERRUPT_LINE] = 0xff;  // scratch for software (PCI 3.0 §6.2.4)
}

void PciConfig::add_memory_bar(unsigned index, uint64_t size, bool is_64bit) {
    const size_t dwords = is_64bit ? 2 : 1;
    if (index + dwords > BAR_COUNT || size < 16 || (size & (size - 1)) != 0 || (!is_64bit && size > (1ull << 31)))
        return;  // a programming error the unit tests catch: nothing is added
    m_bar_size[index] = size;
    m_bar_64bit[index] = is_64bit;
    // Writable: the address bits above the size; the low four flag bits are read-only.
    const uint64_t mask = ~(size - 1) & ~uint64_t{BAR_FLAGS};
    const uint64_t flags = is_64bit ? BAR_MEMORY_64BIT : 0;
    for (size_t i = 0; i < 4 * dwords; ++i) {
        const size_t at = reg::BAR0 + 4 * index + i;
        m_writable[at] = static_cast<uint8_t>(mask >> (8 * i));
        m_bytes[at] = static_cast<uint8_t>(flags >> (8 * i));
    }
}

uint8_t PciConfig::add_capability(uint8_t id, std::span<const uint8_t> body, std::span<const uint8_t> writable) {
    const size_t length = 2 + body.size();
    const uint8_t at = m_next_capability;
    if (at + length > HEADER_SPACE || writable.size() != body.size())
        return 0;  // a programming error the unit tests catch
    m_bytes[at] = id;
    m_bytes[at + 1] = 0;  // the end of the list, until another follows
    std::memcpy(&m_bytes[at + 2], body.data(), body.size());
    std::memcpy(&m_writable[at + 2], writable.data(), writable.size());
    if (m_last_capability == 0)
        m_bytes[reg::CAPABILITIES] = at;
    else
        m_bytes[m_last_capability + 1] = at;
    m_last_capability = at;
    m_next_capability = static_cast<uint8_t>((at + length + 3) & ~size_t{3});  // dword-aligned (§6.7)
    store16(reg::STATUS, load16(reg::STATUS) | status::CAPABILITIES);
    return at;
}

void PciConfig::set_bar_address(unsigned index, uint64_t address) {
    if (index >= BAR_COUNT || m_bar_size[index] == 0)
        return;
    const size_t bytes = m_bar_64bit[index] ? 8 : 4;
    for (size_t i = 0; i < bytes; ++i) {
        const size_t at = reg::BAR0 + 4 * index + i;
        store(at, static_cast<uint8_t>(address >> (8 * i)), m_writable[at]);
    }
}

std::optional<uint64_t> PciConfig::bar_address(unsigned index) const {
    if (index >= BAR_COUNT || m_bar_size[index] == 0 || !(command() & command::MEMORY))
        return std::nullopt;
    uint64_t address = load32(reg::BAR0 + 4 * index) & ~uint64_t{BAR_FLAGS};
    if (m_bar_64bit[index])
        address |= uint64_t{load32(reg::BAR0 + 4 * index + 4)} << 32;
    return address;
}

void PciConfig::set_interrupt_status(bool pending) {
    const uint16_t value = load16(reg::STATUS);
    store16(reg::STATUS, pending ? value | status::INTERRUPT : value & ~status::INTERRUPT);
}

void PciConfig::read(uint64_t offset, std::span<uint8_t> data) const {
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = offset + i < HEADER_SPACE ? m_bytes[offset + i] : 0;
}

void PciConfig::write(uint64_t offset, std::span<const uint8_t> data) {
    for (size_t i = 0; i < data.size() && offset + i < HEADER_SPACE; ++i) {
        const size_t at = offset + i;
        m_bytes[at] &= static_cast<uint8_t>(~(data[i] & m_write_clears[at]));
        store(at, data[i], m_writable[at]);
    }
}

void PciConfig::store(size_t offset, uint8_t value, uint8_t writable) {
    m_bytes[offset] = static_cast<uint8_t>((m_bytes[offset] & ~writable) | (value & writable));
}

uint16_t PciConfig::load16(size_t offset) const {
    return static_cast<uint16_t>(m_bytes[offset] | m_bytes[offset + 1] << 8);
}

uint32_t PciConfig::load32(size_t offset) const { return load16(offset) | uint32_t{load16(offset + 2)} << 16; }

void PciConfig::store16(size_t offset, uint16_t value) {
    m_bytes[offset] = static_cast<uint8_t>(value);
    m_bytes[offset + 1] = static_cast<uint8_t>(value >> 8);
}

void PciConfig::store_bytes(size_t offset, std::span<const uint8_t> bytes) {
    for (size_t i = 0; i < bytes.size() && offset + i < HEADER_SPACE; ++i)
        m_bytes[offset + i] = bytes[i];
}

}  // namespace vmm::pci
