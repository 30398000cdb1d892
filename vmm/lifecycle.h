// How the VM ends: the first stop request wins and fixes the exit status; an eventfd tells
// the event loop. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "vmm/result.h"
#include "vmm/unique_fd.h"

namespace vmm {

// Process exit statuses. Debug-exit codes are odd ((v << 1) | 1); Ember's own are even.
namespace exit_status {
inline constexpr int GUEST_ENDED = 0;     // reset or power-off requested by the guest
inline constexpr int USAGE = 2;           // bad input, or the VM could not be built
inline constexpr int TRIPLE_FAULT = 4;    // KVM_EXIT_SHUTDOWN
inline constexpr int KVM_ERROR = 6;       // internal error, failed entry, unknown exit
inline constexpr int VMM_ERROR = 8;       // a host-side failure while running
inline constexpr int SIGNAL_BASE = 128;   // + signal number, for SIGINT/SIGTERM
}  // namespace exit_status

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
