// --vsock (and the API's PUT /vsock): the guest's CID and the UNIX socket path of the host
// side (Firecracker's: the host connects to PATH, guest connections to port P reach PATH_P).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vmm {

struct VsockConfig {
    std::string id = "vsock0";
    uint64_t cid = 0;
    std::string uds_path;
};

// "cid=N,uds=PATH[,id=ID]".
Result<VsockConfig> parse_vsock(std::string_view text);
// CID 3 to 2^32 - 2 (0, 1, 2 and U32_MAX are reserved), a path a socket can take.
Status validate_vsock(const VsockConfig& vsock);

}  // namespace vmm
