#include "vmm/fs_config.h"

#include <fmt/format.h>

#include "devices/virtio/fs.h"
#include "vmm/key_values.h"

namespace vmm {

Result<FsConfig> parse_fs(std::string_view text) {
    FsConfig fs;
    const std::string where = fmt::format("--fs '{}'", text);
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        if (key == "id" && valid_device_id(value)) {
            fs.id = value;
        } else if (key == "tag" && !value.empty() && value.size() <= virtio::Fs::TAG_SIZE) {
            fs.tag = value;
        } else if (key == "socket" && !value.empty()) {
            fs.socket = value;
        } else if (key == "dir" && !value.empty()) {
            fs.dir = value;
        } else if (key == "readonly" && (value == "on" || value == "off")) {
            fs.readonly = value == "on";
        } else {
            return Error(fmt::format("{}: bad '{}={}' (tag=TAG of 1 to {} bytes, socket=PATH, dir=DIR, "
                                     "readonly=on|off, id=ID)",
                                     where, key, value, virtio::Fs::TAG_SIZE));
        }
    }
    if (fs.tag.empty())
        return Error(where + ": tag=TAG is required");
    if (fs.socket.empty() == fs.dir.empty())
        return Error(where + ": give exactly one of socket=PATH and dir=DIR");
    if (fs.readonly && !fs.socket.empty())
        return Error(where + ": readonly= applies to dir= (a virtiofsd given by socket= has its own options)");
    return fs;
}

Status validate_filesystems(const std::vector<FsConfig>& filesystems) {
    for (size_t i = 0; i < filesystems.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (filesystems[i].tag == filesystems[j].tag)
                return Error(fmt::format("--fs: tag '{}' is given twice", filesystems[i].tag));
    return {};
}

}  // namespace vmm
