// A listening UNIX stream socket at a path that did not exist: bound under a temporary name
// beside it, made private (0600) and listening, then renamed into place, so that a client
// that sees the path can connect at once and no other user ever could. The path goes with
// the listener (unless released). For the API socket and virtio-vsock's host side.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

class UnixListener {
public:
    // Non-blocking. `what` names it in errors ("API socket '/run/x.sock'"); a path that
    // exists is a Busy error.
    static Result<UnixListener> bind(const std::string& path, std::string_view what);

    UnixListener(UnixListener&& other) noexcept
        : m_fd(std::move(other.m_fd)), m_path(std::exchange(other.m_path, {})) {}
    UnixListener& operator=(UnixListener&& other) noexcept;
    ~UnixListener();

    int fd() const { return m_fd.get(); }
    const std::string& path() const { return m_path; }
    // The socket alone: the caller removes the path when it is done.
    UniqueFd release() {
        m_path.clear();
        return std::move(m_fd);
    }

private:
    UnixListener(UniqueFd fd, std::string path) : m_fd(std::move(fd)), m_path(std::move(path)) {}

    UniqueFd m_fd;
    std::string m_path;  // empty: not ours to remove
};

}  // namespace vmm
