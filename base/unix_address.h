// A UNIX stream socket's address from a path, checked once for every socket Ember binds or
// connects (the API socket, vhost-user backends): sun_path holds at most 107 bytes and a NUL.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <optional>
#include <string_view>

namespace vmm {

inline constexpr size_t MAX_UNIX_PATH = sizeof(sockaddr_un::sun_path) - 1;

// nullopt when `path` is empty or longer than MAX_UNIX_PATH.
inline std::optional<sockaddr_un> unix_address(std::string_view path) {
    if (path.empty() || path.size() > MAX_UNIX_PATH)
        return std::nullopt;
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), path.size());
    return address;
}

inline const sockaddr* as_sockaddr(const sockaddr_un& address) {
    return reinterpret_cast<const sockaddr*>(&address);
}

}  // namespace vmm
