// A PCI type-0 configuration space (PCI Local Bus 3.0 §6.1; PCIe 5.0 §7.5.1.2): the standard
// header, a capability list, BARs sized through write masks (software writes all ones and reads
// back the size mask), command and status. Every byte has a write mask and a write-one-to-clear
// mask, so a write touches only what hardware lets it touch. 4 KiB as ECAM shows it; the
// extended space above 256 bytes holds no capability and reads as zero.
// Not thread-safe: the function that owns it serializes access.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace vmm::pci {

inline constexpr size_t CONFIG_SIZE = 4096;
inline constexpr size_t HEADER_SPACE = 256;  // header and capabilities
inline constexpr unsigned BAR_COUNT = 6;

namespace reg {
inline constexpr uint16_t VENDOR_ID = 0x00;
inline constexpr uint16_t DEVICE_ID = 0x02;
inline constexpr uint16_t COMMAND = 0x04;
inline constexpr uint16_t STATUS = 0x06;
inline constexpr uint16_t REVISION = 0x08;
inline constexpr uint16_t CLASS_CODE = 0x09;  // 3 bytes: programming interface, subclass, class
inline constexpr uint16_t CACHE_LINE = 0x0c;
inline constexpr uint16_t LATENCY_TIMER = 0x0d;
inline constexpr uint16_t HEADER_TYPE = 0x0e;
inline constexpr uint16_t BAR0 = 0x10;
inline constexpr uint16_t SUBSYSTEM_VENDOR_ID = 0x2c;
inline constexpr uint16_t SUBSYSTEM_ID = 0x2e;
inline constexpr uint16_t CAPABILITIES = 0x34;
inline constexpr uint16_t INTERRUPT_LINE = 0x3c;
inline constexpr uint16_t INTERRUPT_PIN = 0x3d;
}  // namespace reg

namespace command {
inline constexpr uint16_t MEMORY = 1u << 1;
inline constexpr uint16_t BUS_MASTER = 1u << 2;
inline constexpr uint16_t INTX_DISABLE = 1u << 10;
}  // namespace command

namespace status {
inline constexpr uint16_t INTERRUPT = 1u << 3;
inline constexpr uint16_t CAPABILITIES = 1u << 4;
}  // namespace status

namespace capability {
inline constexpr uint8_t VENDOR = 0x09;
inline constexpr uint8_t MSIX = 0x11;
}  // namespace capability

struct PciId {
    uint16_t vendor = 0;
    uint16_t device = 0;
    uint8_t revision = 0;
    uint32_t class_code = 0;  // class << 16 | subclass << 8 | programming interface
    uint16_t subsystem_vendor = 0;
    uint16_t subsystem = 0;
};

class PciConfig {
public:
    // interrupt_pin: 0 none, 1 INTA#.
    PciConfig(const PciId& id, uint8_t interrupt_pin);

    // A memory BAR of `size` bytes (a power of two, at least 16) at `index`; a 64-bit BAR also
    // takes index + 1 for its upper half.
    void add_memory_bar(unsigned index, uint64_t size, bool is_64bit);
    // Appends a capability: `body` is what follows its id and next pointer; `writable` (the
    // same length) masks the bits a driver may change. Returns the capability's offset.
    uint8_t add_capability(uint8_t id, std::span<const uint8_t> body, std::span<const uint8_t> writable);

    // Firmware's assignment of a BAR (as if written by software).
    void set_bar_address(unsigned index, uint64_t address);
    uint64_t bar_size(unsigned index) const { return index < BAR_COUNT ? m_bar_size[index] : 0; }
    // Where the BAR decodes now: nullopt while memory decoding is off or the BAR is unused.
    std::optional<uint64_t> bar_address(unsigned index) const;

    uint16_t command() const { return load16(reg::COMMAND); }
    void set_command_bits(uint16_t bits) { store16(reg::COMMAND, command() | bits); }
    // The Interrupt Status bit (INTx pending), which only the function sets.
    void set_interrupt_status(bool pending);

    // `offset + data.size()` must lie in CONFIG_SIZE (the root checks); bytes above
    // HEADER_SPACE read as zero and ignore writes.
    void read(uint64_t offset, std::span<uint8_t> data) const;
    void write(uint64_t offset, std::span<const uint8_t> data);

    // Device-side access to its own registers (capability fields), bypassing the masks.
    uint16_t load16(size_t offset) const;
    uint32_t load32(size_t offset) const;
    void store16(size_t offset, uint16_t value);
    void store_bytes(size_t offset, std::span<const uint8_t> bytes);

private:
    void store(size_t offset, uint8_t value, uint8_t writable);

    std::array<uint8_t, HEADER_SPACE> m_bytes{};
    std::array<uint8_t, HEADER_SPACE> m_writable{};
    std::array<uint8_t, HEADER_SPACE> m_write_clears{};
    std::array<uint64_t, BAR_COUNT> m_bar_size{};
    std::array<bool, BAR_COUNT> m_bar_64bit{};
    uint8_t m_next_capability = 0x40;
    uint8_t m_last_capability = 0;
};

}  // namespace vmm::pci
