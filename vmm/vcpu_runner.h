// The loop one vCPU thread runs: KVM_RUN, then dispatch the exit (PIO/MMIO to the buses) or
// end the VM with a reason. Nothing here allocates or logs at info level per exit.
#pragma once

#include <pthread.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>

#include "base/counter.h"
#include "vmm/bus.h"
#include "base/guest_memory.h"
#include "vmm/kvm.h"
#include "vmm/lifecycle.h"
#include "vmm/pause_gate.h"
#include "vmm/seccomp.h"
#include "base/rate_limiter.h"

namespace vmm {

class VcpuRunner {
public:
    VcpuRunner(Vcpu& vcpu, const Bus& pio, const Bus& mmio, const GuestMemory& memory,
               Lifecycle& lifecycle, PauseGate& gate)
        : m_vcpu(vcpu), m_pio(pio), m_mmio(mmio), m_memory(memory), m_lifecycle(lifecycle), m_gate(gate) {}

    // Installs the (empty) handler of the signal used to kick vCPUs out of KVM_RUN. Once per
    // process, before any vCPU thread starts.
    static Status install_kick_handler();

    // The thread installs the vCPU seccomp filter on itself, then waits for `go` (the VMM
    // thread's filter is in) before its first KVM_RUN.
    void start(const SeccompFilters& filters, std::latch& go);
    // Makes KVM_RUN return now or at its next entry (immediate_exit + signal); the thread
    // then parks at the gate, or ends when the VM stops.
    void kick();
    // Kicks and joins the thread (the lifecycle has a stop request, the gate is released).
    void stop_and_join();
    // The exits to Ember so far, by reason (for metrics; read on any thread).
    std::vector<CounterValue> exit_counters() const;

private:
    void run_loop();
    // Returns false when the vCPU must stop.
    bool handle_exit(kvm_run& run);
    void handle_io(kvm_run& run);
    void handle_mmio(kvm_run& run);
    void stop_on_internal_error(const kvm_run& run);

    Vcpu& m_vcpu;
    const Bus& m_pio;
    const Bus& m_mmio;
    const GuestMemory& m_memory;
    Lifecycle& m_lifecycle;
    PauseGate& m_gate;
    std::thread m_thread;
    struct {
        Counter io, mmio, hlt, shutdown, system_event, internal_error, fail_entry, intr, other;
    } m_exits;
};

}  // namespace vmm
