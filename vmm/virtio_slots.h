// Places a virtio device on the machine: the next MMIO window and IRQ, an irqfd for its
// interrupt, an ioeventfd per queue served by the event loop, and the kernel command-line
// entry Linux discovers it by (virtio_mmio.device=<size>@<addr>:<irq>).
#pragma once

#include <memory>
#include <vector>

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

Result<VirtioSlot> attach_virtio_device(Vmm& vmm, std::unique_ptr<virtio::VirtioDevice> device,
                                        boot::KernelCmdline& cmdline);

}  // namespace vmm
