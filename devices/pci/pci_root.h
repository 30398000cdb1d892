// The PCIe root complex of one segment with bus 0 only (a microVM's devices all sit there):
// a host bridge at 00:00.0, up to 31 functions in the other slots, and the three ways a CPU
// reaches them: configuration mechanism #1 at ports 0xCF8/0xCFC (PCI 3.0 §3.2.2.3.2), ECAM
// (PCIe 5.0 §7.2.2) and the memory windows their BARs decode in. Functions are added before
// vCPUs run; the slot table is fixed after that, so dispatch takes no lock.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "base/result.h"
#include "devices/device.h"
#include "devices/pci/pci_function.h"

namespace vmm::pci {

class PciRoot {
public:
    static constexpr size_t SLOTS = 32;
    static constexpr uint64_t ECAM_BUS_SIZE = 1u << 20;  // 32 devices x 8 functions x 4 KiB
    static constexpr uint16_t CONFIG_ADDRESS_PORT = 0xcf8;
    static constexpr uint16_t CONFIG_PORTS = 8;  // 0xcf8..0xcff

    PciRoot();

    // Places a function in the next free slot; returns the slot (device number).
    Result<uint8_t> add(std::shared_ptr<PciFunction> function);

    // Devices for the buses: the configuration ports, ECAM for bus 0, and the BAR windows
    // (one BusDevice may be inserted at several windows: it dispatches by absolute address,
    // given the window's base).
    std::shared_ptr<BusDevice> config_ports();
    std::shared_ptr<BusDevice> ecam();
    std::shared_ptr<BusDevice> bar_window(uint64_t base);

    // Configuration access to bus 0 (device, function, register offset); an absent function
    // or an access that is not 1, 2 or 4 bytes naturally aligned reads as all ones.
    void config_read(uint32_t device, uint32_t function, uint64_t offset, std::span<uint8_t> data);
    void config_write(uint32_t device, uint32_t function, uint64_t offset, std::span<const uint8_t> data);

    void mmio_read(uint64_t address, std::span<uint8_t> data);
    void mmio_write(uint64_t address, std::span<const uint8_t> data);

    uint32_t config_address() const { return m_config_address.load(); }
    void set_config_address(uint32_t value) { m_config_address.store(value); }

private:
    PciFunction* function_at(uint32_t device, uint32_t function, uint64_t offset, size_t size) const;

    std::array<std::shared_ptr<PciFunction>, SLOTS> m_slots;
    std::atomic<uint32_t> m_config_address{0};
};

}  // namespace vmm::pci
