// What the firmware tables (x86 ACPI, arm64 device tree) say of the devices Ember places, on
// every architecture: a virtio-mmio window and its interrupt, the PCIe host bridge's windows.
#pragma once

#include <cstdint>
#include <vector>

namespace vmm::arch {

struct MmioDeviceResources {
    uint64_t base;
    uint64_t size;
    uint32_t gsi;  // x86: the IOAPIC input; arm64: the SPI number (INTID - 32)
};

// A PCI function's INTA#, wired straight to an interrupt controller input (the _PRT's GSI form).
struct PciIntx {
    uint8_t device;
    uint32_t gsi;
};

// The PCIe host bridge of segment 0, bus 0: its ECAM window and the windows it forwards to its
// functions' BARs.
struct PciHostResources {
    uint64_t ecam_base;
    uint64_t ecam_size;
    uint64_t mmio32_base;
    uint64_t mmio32_size;
    uint64_t mmio64_base;
    uint64_t mmio64_size;
    std::vector<PciIntx> intx;
};

}  // namespace vmm::arch
