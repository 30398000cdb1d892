// The DSDT's AML: every device of the machine as a stock distro kernel needs to find it
// (Debian's kernels discover virtio-mmio devices only through ACPI, and in hardware-reduced
// mode map an ISA IRQ only for a device that claims it), plus _S5_ for power-off through the
// FADT's sleep registers.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "arch/device_resources.h"
#include "arch/x86_64/aml.h"

namespace vmm::arch::x86_64 {

using arch::MmioDeviceResources;
using arch::PciHostResources;
using arch::PciIntx;

// What the firmware tables describe beyond the CPUs.
struct AcpiDevices {
    bool i8042 = true;
    std::vector<MmioDeviceResources> virtio_mmio;
    std::optional<PciHostResources> pci;
};

// The sleep type _S5_ announces; the power device acts on it (ACPI 6.5 §4.8.3.7).
inline constexpr uint8_t SLEEP_TYPE_S5 = 5;

// The AML that follows the DSDT's header.
aml::Bytes dsdt_body(const AcpiDevices& devices);

}  // namespace vmm::arch::x86_64
