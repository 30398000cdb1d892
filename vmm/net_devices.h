// virtio-net devices from --net: TAPs opened before the VM exists (so a bad --net fails
// early), then attached with each TAP queue's fd watched by the event loop.
#pragma once

#include <memory>
#include <vector>

#include "devices/virtio/net_backend.h"
#include "vmm/vm_config.h"
#include "vmm/vm_parts.h"

namespace vmm {

using NetBackends = std::vector<std::vector<std::unique_ptr<virtio::NetBackend>>>;

Result<NetBackends> open_net_backends(const VmConfig& config);
Status attach_net_devices(VmParts& vmm, const VmConfig& config, NetBackends backends);

}  // namespace vmm
