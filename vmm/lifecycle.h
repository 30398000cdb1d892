// How the VM ends: the first stop request wins and fixes the exit status; an eventfd tells
// the event loop. Thread-safe.
#pragma once

#include <signal.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

// Process exit statuses. Debug-exit codes are odd ((v << 1) | 1); Ember's own are even.
namespace exit_status {
inline constexpr int GUEST_ENDED = 0;     // reset or power-off requested by the guest
inline constexpr int USAGE = 2;           // invalid input, or a file or device not found / not allowed
inline constexpr int GUEST_FAULT = 4;     // the guest faulted: a triple fault (KVM_EXIT_SHUTDOWN)
inline constexpr int KVM_ERROR = 6;       // internal error, failed entry, unknown exit
inline constexpr int VMM_ERROR = 8;       // an internal error, or a host-side failure while running
inline constexpr int BUSY = 10;           // a disk, TAP or other resource held by someone else
inline constexpr int HOST_RESOURCE = 12;  // the host could not provide memory, fds, a KVM VM or vCPU
inline constexpr int TIMEOUT = 14;        // the VM still ran when --timeout ran out
inline constexpr int MIGRATED = 16;       // the VM moved to another Ember (live migration), which runs it on
inline constexpr int SIGNAL_BASE = 128;   // + signal number, for SIGINT/SIGTERM

// The status of a VM that could not be built or started, from the error's kind.
int for_error(ErrorKind kind);
}  // namespace exit_status

// SIGINT and SIGTERM: the signals that stop Ember, blocked and served through a signalfd.
sigset_t stop_signals();

class Lifecycle {
public:
    static Result<std::unique_ptr<Lifecycle>> create();

    // Records why the VM stops (only the first call counts) and wakes the event loop.
    void request_stop(int exit_code, std::string reason);
    bool stop_requested() const { return m_stopping.load(std::memory_order_acquire); }
    int event_fd() const { return m_event.get(); }
    int exit_code() const;
    std::string reason() const;

private:
    explicit Lifecycle(UniqueFd event) : m_event(std::move(event)) {}

    UniqueFd m_event;
    std::atomic<bool> m_stopping{false};
    mutable std::mutex m_mutex;
    int m_exit_code = 0;
    std::string m_reason;
};

}  // namespace vmm
