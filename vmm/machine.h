// What the builder asks of the architecture Ember runs guests on (crosvm's LinuxArch is the
// model): memory layout, KVM capabilities, interrupt controller and timers, platform devices,
// firmware tables with the kernel and its boot information, and the vCPUs. The builder
// (vm_builder.cpp) stays architecture-neutral; everything x86 is behind this, in vmm/x86_64/
// over arch/x86_64 and boot/x86_64.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "base/guest_memory.h"
#include "base/result.h"
#include "boot/cmdline.h"
#include "vmm/vm_config.h"

namespace vmm {

struct VmParts;

class Machine {
public:
    virtual ~Machine() = default;

    // KVM capabilities the machine cannot do without, with their names for the error.
    virtual std::vector<std::pair<long, const char*>> required_capabilities() const = 0;
    // The guest RAM of `memory` bytes as KVM memory slots.
    virtual std::vector<MemoryRegionSpec> ram_regions(uint64_t memory) const = 0;
    // The largest kernel or initramfs file worth reading: the RAM they could be loaded into.
    virtual uint64_t image_size_limit(uint64_t memory) const = 0;

    // The in-kernel interrupt controller and timers.
    virtual Status create_irqchip(VmParts& vmm, const VmConfig& config) = 0;
    // The serial port and the other devices every guest of this machine expects.
    virtual Status attach_platform_devices(VmParts& vmm, const VmConfig& config) = 0;
    // After every device is attached: the firmware tables describing them, the kernel, its
    // initramfs and command line, and the boot information its entry point expects.
    virtual Status load_kernel(VmParts& vmm, const VmConfig& config, std::span<const uint8_t> kernel,
                               std::span<const uint8_t> initrd, boot::KernelCmdline& cmdline) = 0;
    // The vCPUs, the boot one set up to enter the loaded kernel.
    virtual Status create_vcpus(VmParts& vmm, const VmConfig& config) = 0;
};

// The machine of the architecture Ember was built for.
std::unique_ptr<Machine> host_machine();

}  // namespace vmm
