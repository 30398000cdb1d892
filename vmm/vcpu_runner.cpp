#include "vmm/vcpu_runner.h"

#include <signal.h>

#include <array>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vmm/vcpu_fault.h"

namespace vmm {

namespace {

int kick_signal() { return SIGRTMIN; }

void on_kick(int) {}

}  // namespace

Status VcpuRunner::install_kick_handler() {
    struct sigaction action {};
    action.sa_handler = on_kick;  // no SA_RESTART: KVM_RUN must return EINTR
    sigemptyset(&action.sa_mask);
    if (::sigaction(kick_signal(), &action, nullptr) < 0)
        return Error::from_errno("sigaction for the vCPU kick signal");
    return {};
}

void VcpuRunner::start(const SeccompFilters& filters, std::latch& go) {
    m_thread = std::thread([this, &filters, &go] {
        sigset_t kick;
        sigemptyset(&kick);
        sigaddset(&kick, kick_signal());
        pthread_sigmask(SIG_UNBLOCK, &kick, nullptr);
        pthread_setname_np(pthread_self(), fmt::format("ember_vcpu{}", m_vcpu.id()).c_str());
        if (auto status = filters.apply(ThreadKind::Vcpu); !status.ok()) {
            m_lifecycle.request_stop(exit_status::VMM_ERROR, status.error().message());
            return;
        }
        go.wait();
        run_loop();
    });
}

void VcpuRunner::kick() {
    if (!m_thread.joinable())
        return;
    // SAFETY of the concurrent store: immediate_exit is a byte KVM reads on entry to KVM_RUN;
    // atomic_ref makes this thread's store well-defined against the vCPU thread's.
    std::atomic_ref<uint8_t>(m_vcpu.run_state()->immediate_exit).store(1, std::memory_order_release);
    pthread_kill(m_thread.native_handle(), kick_signal());
}

void VcpuRunner::stop_and_join() {
    if (!m_thread.joinable())
        return;
    kick();
    m_thread.join();
}

void VcpuRunner::run_loop() {
    kvm_run& run = *m_vcpu.run_state();
    while (!m_lifecycle.stop_requested()) {
        auto status = m_vcpu.run();
        if (!status.ok()) {
            if (status.error().sys_errno() == EINTR || status.error().sys_errno() == EAGAIN) {
                // Kicked: to park while the VM is paused (KVM has completed any pending
                // port or MMIO access first), or to stop. Only kicks set immediate_exit: a
                // pause's is consumed by parking; a stop's stays (it is requested first).
                if (m_gate.park_if_closed() && !m_lifecycle.stop_requested()) {
                    std::atomic_ref<uint8_t>(run.immediate_exit).store(0, std::memory_order_release);
                    // Resumed: a guest with kvmclock learns it was stopped (as in Firecracker and
                    // QEMU); one without (EINVAL) has nothing to be told.
                    (void)m_vcpu.kvmclock_ctrl();
                }
                continue;
            }
            m_lifecycle.request_stop(exit_status::KVM_ERROR,
                                     fmt::format("vCPU {}: {}", m_vcpu.id(), status.error().message()));
            break;
        }
        if (!handle_exit(run))
            break;
    }
    m_gate.leave();
}

bool VcpuRunner::handle_exit(kvm_run& run) {
    switch (run.exit_reason) {
    case KVM_EXIT_IO:
        ++m_exits.io;
        handle_io(run);
        return true;
    case KVM_EXIT_MMIO:
        ++m_exits.mmio;
        handle_mmio(run);
        return true;
    case KVM_EXIT_HLT:
        ++m_exits.hlt;
        m_lifecycle.request_stop(exit_status::GUEST_ENDED, fmt::format("vCPU {} halted", m_vcpu.id()));
        return false;
    case KVM_EXIT_SHUTDOWN:
        ++m_exits.shutdown;
        m_lifecycle.request_stop(exit_status::GUEST_FAULT,
                                 fmt::format("vCPU {}: guest triple fault (KVM_EXIT_SHUTDOWN){}", m_vcpu.id(),
                                             fault_location(m_vcpu)));
        return false;
    case KVM_EXIT_SYSTEM_EVENT:
        ++m_exits.system_event;
        if (run.system_event.type == KVM_SYSTEM_EVENT_SHUTDOWN ||
            run.system_event.type == KVM_SYSTEM_EVENT_RESET) {
            m_lifecycle.request_stop(exit_status::GUEST_ENDED, "guest requested reset or power-off");
        } else {
            m_lifecycle.request_stop(exit_status::KVM_ERROR,
                                     fmt::format("guest system event {}", run.system_event.type));
        }
        return false;
    case KVM_EXIT_INTERNAL_ERROR:
        ++m_exits.internal_error;
        stop_on_internal_error(run);
        return false;
    case KVM_EXIT_FAIL_ENTRY:
        ++m_exits.fail_entry;
        m_lifecycle.request_stop(
            exit_status::KVM_ERROR,
            fmt::format("vCPU {}: VM entry failed, hardware reason {:#x}", m_vcpu.id(),
                        static_cast<uint64_t>(run.fail_entry.hardware_entry_failure_reason)));
        return false;
    case KVM_EXIT_INTR:
        ++m_exits.intr;
        return true;
    default:
        ++m_exits.other;
        m_lifecycle.request_stop(exit_status::KVM_ERROR,
                                 fmt::format("vCPU {}: unhandled KVM exit {}", m_vcpu.id(), run.exit_reason));
        return false;
    }
}

void VcpuRunner::handle_io(kvm_run& run) {
    // SAFETY: KVM places the data of a PIO exit inside the kvm_run mapping at data_offset,
    // count accesses of `size` bytes each.
    uint8_t* data = reinterpret_cast<uint8_t*>(&run) + run.io.data_offset;
    const uint16_t port = run.io.port;
    for (uint32_t i = 0; i < run.io.count; ++i) {
        std::span<uint8_t> access(data + size_t(i) * run.io.size, run.io.size);
        const bool handled = run.io.direction == KVM_EXIT_IO_OUT ? m_pio.write(port, access)
                                                                 : m_pio.read(port, access);
        if (!handled && allow_guest_message())
            spdlog::debug("vCPU {}: {} of {} bytes at unknown port {:#x}", m_vcpu.id(),
                          run.io.direction == KVM_EXIT_IO_OUT ? "write" : "read", run.io.size, port);
    }
}

void VcpuRunner::handle_mmio(kvm_run& run) {
    const uint32_t len = std::min<uint32_t>(run.mmio.len, sizeof run.mmio.data);
    std::span<uint8_t> access(run.mmio.data, len);
    const bool handled = run.mmio.is_write ? m_mmio.write(run.mmio.phys_addr, access)
                                           : m_mmio.read(run.mmio.phys_addr, access);
    if (!handled && allow_guest_message())
        spdlog::warn("vCPU {}: {} of {} bytes at unknown MMIO address {:#x}", m_vcpu.id(),
                     run.mmio.is_write ? "write" : "read", len,
                     static_cast<uint64_t>(run.mmio.phys_addr));
}

std::vector<CounterValue> VcpuRunner::exit_counters() const {
    return {{"io", m_exits.io},
            {"mmio", m_exits.mmio},
            {"hlt", m_exits.hlt},
            {"shutdown", m_exits.shutdown},
            {"system_event", m_exits.system_event},
            {"internal_error", m_exits.internal_error},
            {"fail_entry", m_exits.fail_entry},
            {"intr", m_exits.intr},
            {"other", m_exits.other}};
}

void VcpuRunner::stop_on_internal_error(const kvm_run& run) {
    m_lifecycle.request_stop(exit_status::KVM_ERROR,
                             fmt::format("vCPU {}: KVM internal error, suberror {}{}", m_vcpu.id(), run.internal.suberror,
                                         internal_error_context(m_vcpu, run, m_memory)));
}

}  // namespace vmm
