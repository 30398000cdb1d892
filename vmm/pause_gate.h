// Where vCPU threads park while the VM is paused. The controller closes the gate, kicks every
// vCPU out of KVM_RUN and waits until each one is parked (or has ended); opening it lets them
// run on. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>

namespace vmm {

class PauseGate {
public:
    explicit PauseGate(size_t vcpus) : m_vcpus(vcpus) {}

    // Controller: closes the gate, runs `kick` (which makes every KVM_RUN return) and waits
    // until all vCPUs are parked or ended.
    void close(const std::function<void()>& kick);
    void open();
    // Before any vCPU runs: closed, so each parks on its first (kicked) entry; no wait.
    void close_before_start();
    bool closed() const;
    // For good (the VM is stopping): parked vCPUs leave and none parks again.
    void release();

    // vCPU thread: parks while the gate is closed. Returns true when it parked (the caller
    // then clears its immediate_exit).
    bool park_if_closed();
    // vCPU thread: its loop ended; it no longer counts.
    void leave();

private:
    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    size_t m_vcpus;
    size_t m_parked = 0;
    bool m_closed = false;
    bool m_released = false;
};

}  // namespace vmm
