// A virtiofsd Ember starts for --fs dir=DIR: Debian's (QEMU's /usr/lib/qemu/virtiofsd, or
// the Rust one at /usr/libexec/virtiofsd; $EMBER_VIRTIOFSD overrides) on a listening socket
// Ember made and hands over as --fd, so there is nothing to wait for: Ember's connection is
// queued before virtiofsd runs, and the socket's name is gone again before the VM starts.
// readonly: virtiofsd runs in its own mount namespace where DIR is a read-only bind mount, so
// the kernel refuses every write. Stopped (SIGTERM, then SIGKILL) when this is destroyed; it
// also dies with Ember (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

class Virtiofsd {
public:
    // Starts it on `dir`; `connection` receives Ember's end of the vhost-user socket.
    static Result<Virtiofsd> start(const std::string& dir, bool readonly, UniqueFd& connection);

    Virtiofsd(Virtiofsd&& other) noexcept;
    Virtiofsd& operator=(Virtiofsd&&) = delete;
    ~Virtiofsd();

    pid_t pid() const { return m_pid; }

private:
    explicit Virtiofsd(pid_t pid) : m_pid(pid) {}
    pid_t m_pid = -1;
};

// The virtiofsd binary to run: $EMBER_VIRTIOFSD, else the first of Debian's that exists.
Result<std::string> find_virtiofsd();

}  // namespace vmm
