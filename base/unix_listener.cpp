#include "base/unix_listener.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <fmt/format.h>

#include "base/unix_address.h"

namespace vmm {

UnixListener& UnixListener::operator=(UnixListener&& other) noexcept {
    if (this != &other) {
        if (!m_path.empty())
            ::unlink(m_path.c_str());
        m_fd = std::move(other.m_fd);
        m_path = std::exchange(other.m_path, {});
    }
    return *this;
}

UnixListener::~UnixListener() {
    if (!m_path.empty())
        ::unlink(m_path.c_str());
}

Result<UnixListener> UnixListener::bind(const std::string& path, std::string_view what) {
    const auto in_place = unix_address(path);
    if (!in_place)
        return Error(fmt::format("{}: the path must be 1 to {} bytes", what, MAX_UNIX_PATH));
    struct stat st {};
    const Error taken(ErrorKind::Busy, fmt::format("{}: the path exists; remove it or choose another", what));
    if (::lstat(path.c_str(), &st) == 0)
        return taken;
    // A path too long for the temporary name is bound in place.
    std::string bound = fmt::format("{}.{}.tmp", path, ::getpid());
    auto address = unix_address(bound);
    if (!address) {
        bound = path;
        address = in_place;
    }
    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!listener.valid())
        return Error::from_errno(what);
    if (::bind(listener.get(), as_sockaddr(*address), sizeof *address) < 0)
        return Error::from_errno(what);
    if (::chmod(bound.c_str(), 0600) < 0 || ::listen(listener.get(), 128) < 0 ||
        (bound != path && ::renameat2(AT_FDCWD, bound.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE) < 0)) {
        Error error = errno == EEXIST ? taken : Error::from_errno(what);
        ::unlink(bound.c_str());
        return error;
    }
    return UnixListener(std::move(listener), path);
}

}  // namespace vmm
