// The virtio-vsock device from the VmConfig: its listening socket bound before the VM exists
// (so a taken path fails early and nothing is left), then the device placed with the muxer's
// epoll set on the event loop.
#pragma once

#include <optional>

#include "base/unix_listener.h"
#include "vmm/vm_config.h"
#include "vmm/vm_parts.h"

namespace vmm {

// replace_stale: a socket already at the path that no one listens on (left by a killed Ember
// whose snapshot is being restored) is removed first; a live one is still refused.
Result<std::optional<UnixListener>> open_vsock_listener(const VmConfig& config, bool replace_stale = false);
Status attach_vsock_device(VmParts& vmm, const VmConfig& config, std::optional<UnixListener> listener);

}  // namespace vmm
