// What the VMM does with a virtio device whatever its transport (MMIO or PCI): serve queue
// notifications, relay an external backend's events, read its status, and change or use the
// device between requests. Each transport serializes these with its register accesses.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/result.h"
#include "devices/virtio/virtio_device.h"

namespace vmm::virtio {

class VirtioTransport {
public:
    virtual ~VirtioTransport() = default;

    // A notification for queue `index` (its ioeventfd, or a register write without one).
    // True when the device stopped at its budget with requests still available: the caller
    // reschedules instead of looping, so other events get their turn.
    virtual bool notify(uint32_t index) = 0;
    // For a device with external rings (vhost-user), from the thread watching its backend:
    // the backend used buffers of queue `index`; the backend failed (DEVICE_NEEDS_RESET).
    virtual void external_used(uint32_t index) = 0;
    virtual void external_failed(const std::string& why) = 0;

    virtual uint32_t status() const = 0;
    virtual size_t queue_count() const = 0;
    virtual const VirtioDevice& device() const = 0;
    // Runs `change` on the device under the transport's lock (between requests); when it
    // succeeds, the driver is told the configuration changed (VIRTIO 1.2 §2.5.1).
    virtual Status change_device(const std::function<Status(VirtioDevice&)>& change) = 0;
    // Runs `use` on the device under the transport's lock, telling the driver nothing.
    virtual Status with_device(const std::function<Status(VirtioDevice&)>& use) = 0;
};

}  // namespace vmm::virtio
