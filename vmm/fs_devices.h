// virtio-fs devices from --fs: each backend connected (and for dir=, its virtiofsd started)
// before the VM exists, so a bad --fs fails early; then attached with its call eventfds and
// its socket watched by the event loop.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "devices/virtio/vhost_user.h"
#include "vmm/virtiofsd.h"
#include "vmm/vm_config.h"
#include "vmm/vm_parts.h"

namespace vmm {

struct FsBackend {
    virtio::VhostUserFrontend frontend;
    std::optional<Virtiofsd> daemon;  // dir=: the virtiofsd Ember started
};

Result<std::vector<FsBackend>> open_fs_backends(const VmConfig& config);
Status attach_fs_devices(VmParts& vmm, const VmConfig& config, std::vector<FsBackend> backends);

}  // namespace vmm
