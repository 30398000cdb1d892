// The flattened device tree an arm64 guest boots with (Devicetree Specification v0.4; Linux's
// Documentation/devicetree/bindings for each node): memory, CPUs started through PSCI, the GIC,
// the architected timer, the UART as the console, the virtio-mmio devices and /chosen (command
// line, initramfs). Built with libfdt's sequential writer; the blob is what x0 points to at entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "arch/device_resources.h"
#include "base/result.h"

namespace vmm::arch::aarch64 {

struct FdtSpec {
    std::vector<uint64_t> mpidrs;  // one per vCPU: its MPIDR_EL1 affinity, the cpu node's reg
    uint64_t ram_base = 0;
    uint64_t ram_size = 0;
    std::string bootargs;
    std::optional<std::pair<uint64_t, uint64_t>> initrd;  // [start, end)
    uint32_t gic_version = 3;                              // 3, or 2 on hosts without a GICv3
    std::vector<MmioDeviceResources> virtio_mmio;  // gsi: the SPI, edge-triggered
    uint64_t kaslr_seed = 0;  // /chosen/kaslr-seed; 0: none
};

// The blob, at most layout::FDT_MAX_SIZE bytes.
Result<std::vector<uint8_t>> build_fdt(const FdtSpec& spec);

// The DT's phandle of the interrupt controller (every interrupt in the tree is the GIC's).
inline constexpr uint32_t GIC_PHANDLE = 1;

}  // namespace vmm::arch::aarch64
