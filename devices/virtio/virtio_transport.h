// What the VMM does with a virtio device whatever its transport (MMIO or PCI): serve queue
// notifications, relay an external backend's events, read its status, and change or use the
// device between requests. Each transport serializes these with its register accesses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "base/guest_memory.h"
#include "devices/virtio/virtio_core.h"
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

// What MMIO and PCI share: a VirtioCore behind one lock, and the VirtioTransport calls on it.
// A transport derives from this, decodes its registers under m_mutex and is the core's
// VirtioInterrupt (it is referenced here before it is constructed, never called then).
class CoreTransport : public VirtioTransport {
public:
    bool notify(uint32_t index) final;
    void external_used(uint32_t index) final;
    void external_failed(const std::string& why) final;
    uint32_t status() const final;
    size_t queue_count() const final { return m_core.queue_count(); }
    const VirtioDevice& device() const final { return m_core.device(); }
    Status change_device(const std::function<Status(VirtioDevice&)>& change) final;
    Status with_device(const std::function<Status(VirtioDevice&)>& use) final;

protected:
    CoreTransport(std::unique_ptr<VirtioDevice> device, GuestMemory& memory, VirtioInterrupt& interrupt)
        : m_core(std::move(device), memory, interrupt) {}

    mutable std::mutex m_mutex;
    VirtioCore m_core;
};

}  // namespace vmm::virtio
