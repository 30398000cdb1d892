// Places a virtio device on the machine: the next MMIO window and IRQ, an irqfd for its
// interrupt and an ioeventfd per queue served by the event loop. Guests find the devices in
// the DSDT (virtio_acpi_devices()) or, for kernels without ACPI, on the command line.
#pragma once

#include <memory>
#include <vector>

#include "arch/x86_64/dsdt.h"
#include "boot/cmdline.h"
#include "devices/virtio/virtio_device.h"
#include "vmm/vmm.h"

namespace vmm {

struct VirtioSlot {
    std::shared_ptr<virtio::MmioTransport> transport;
    std::vector<int> notify_fds;  // per queue, owned by the Vmm

    // Has queue `index` served again from the event loop, as a driver notification would.
    void kick(size_t index) const;
};

Result<VirtioSlot> attach_virtio_device(Vmm& vmm, std::unique_ptr<virtio::VirtioDevice> device);

// The windows and IRQs of the devices attached so far: for the DSDT, and as
// virtio_mmio.device=<size>@<addr>:<irq> entries (Linux's CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES).
std::vector<arch::x86_64::MmioDeviceResources> virtio_device_resources(const Vmm& vmm);
Status announce_on_cmdline(const std::vector<arch::x86_64::MmioDeviceResources>& devices,
                           boot::KernelCmdline& cmdline);

}  // namespace vmm
