// --fs: a virtio-fs device the guest mounts by its tag, served by a virtiofsd the user started
// (socket=) or one Ember starts on a host directory (dir=) and stops on exit.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace vmm {

struct FsConfig {
    std::string id;      // id=, else fs0, fs1, ... (name_devices)
    std::string tag;     // what `mount -t virtiofs TAG /mnt` names, 1..36 bytes
    std::string socket;  // socket=PATH: a listening vhost-user backend
    std::string dir;     // dir=DIR: Ember starts virtiofsd on it
    bool readonly = false;
};

// "tag=TAG,socket=PATH[,id=ID]" or "tag=TAG,dir=DIR[,readonly=on|off][,id=ID]".
Result<FsConfig> parse_fs(std::string_view text);
// Across all --fs options: no tag given twice.
Status validate_filesystems(const std::vector<FsConfig>& filesystems);

}  // namespace vmm
