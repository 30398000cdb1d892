#include "vmm/vsock_config.h"

#include <charconv>

#include <fmt/format.h>

#include "devices/virtio/vsock_packet.h"
#include "base/unix_address.h"
#include "vmm/key_values.h"

namespace vmm {

Result<VsockConfig> parse_vsock(std::string_view text) {
    VsockConfig vsock;
    const std::string where = fmt::format("--vsock '{}'", text);
    bool cid_given = false;
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        if (key == "cid") {
            auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), vsock.cid);
            if (err != std::errc() || end != value.data() + value.size() || value.empty())
                return Error(fmt::format("{}: cid '{}' is not a number", where, value));
            cid_given = true;
        } else if (key == "uds" && !value.empty()) {
            vsock.uds_path = value;
        } else if (key == "id" && valid_device_id(value)) {
            vsock.id = value;
        } else {
            return Error(fmt::format("{}: bad '{}={}' (cid=N, uds=PATH, id=ID)", where, key, value));
        }
    }
    if (!cid_given)
        return Error(where + ": cid=N is required");
    if (vsock.uds_path.empty())
        return Error(where + ": uds=PATH is required");
    TRY(validate_vsock(vsock));
    return vsock;
}

Status validate_vsock(const VsockConfig& vsock) {
    using namespace virtio::vsock;
    if (vsock.cid < MIN_GUEST_CID || vsock.cid > MAX_GUEST_CID)
        return Error(fmt::format("vsock: guest CID {} is reserved or out of range ({} to {})", vsock.cid,
                                 MIN_GUEST_CID, MAX_GUEST_CID));
    // Room for the "_<port>" of the sockets guest connections reach, too.
    constexpr size_t PORT_SUFFIX = 11;
    if (vsock.uds_path.empty() || vsock.uds_path.size() + PORT_SUFFIX > MAX_UNIX_PATH)
        return Error(fmt::format("vsock: socket path '{}' must be 1 to {} bytes", vsock.uds_path,
                                 MAX_UNIX_PATH - PORT_SUFFIX));
    return {};
}

}  // namespace vmm
