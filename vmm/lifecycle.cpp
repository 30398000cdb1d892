#include "vmm/lifecycle.h"

#include <sys/eventfd.h>

namespace vmm {

sigset_t stop_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

int exit_status::for_error(ErrorKind kind) {
    switch (kind) {
    case ErrorKind::InvalidInput: case ErrorKind::NotFound: return USAGE;
    case ErrorKind::Busy: return BUSY;
    case ErrorKind::HostResource: return HOST_RESOURCE;
    case ErrorKind::GuestFault: return GUEST_FAULT;
    case ErrorKind::Internal: return VMM_ERROR;
    }
    return VMM_ERROR;
}

Result<std::unique_ptr<Lifecycle>> Lifecycle::create() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("eventfd");
    return std::unique_ptr<Lifecycle>(new Lifecycle(UniqueFd(fd)));
}

void Lifecycle::request_stop(int exit_code, std::string reason) {
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping.load(std::memory_order_relaxed))
            return;
        m_exit_code = exit_code;
        m_reason = std::move(reason);
        m_stopping.store(true, std::memory_order_release);
    }
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_event.get(), &one, sizeof one);
}

int Lifecycle::exit_code() const {
    std::lock_guard lock(m_mutex);
    return m_exit_code;
}

std::string Lifecycle::reason() const {
    std::lock_guard lock(m_mutex);
    return m_reason;
}

}  // namespace vmm
