// A built VM and everything it owns; run() drives it to the end and returns the exit status.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/guest_memory.h"
#include "devices/legacy/serial_port.h"
#include "vmm/device_manager.h"
#include "vmm/event_loop.h"
#include "vmm/host_console.h"
#include "vmm/kvm.h"
#include "vmm/lifecycle.h"
#include "vmm/machine_state.h"
#include "vmm/pause_gate.h"
#include "vmm/vcpu_runner.h"

namespace vmm {

class Vmm {
public:
    enum class State { Created, Running, Paused, Stopped };

    // Starts the vCPU threads, serves events until the VM stops, joins the threads.
    int run();

    // From any other thread while run() serves the VM. pause() returns once every vCPU is
    // parked outside KVM_RUN and device events are held (queue notifications, TAP frames and
    // host input wait in the kernel); resume() lets both run on. Signals and the lifecycle
    // are served while paused, so a paused VM still stops on SIGTERM.
    Status pause();
    Status resume();
    State state() const;

    // KVM's state of every vCPU and of the VM (machine_state.h); only while paused.
    Result<MachineState> save_machine() const;
    Status restore_machine(const MachineState& state);

    // Places a virtio device on this VM (DeviceManager::attach_virtio).
    Result<VirtioSlot> attach_virtio(std::string id, std::unique_ptr<virtio::VirtioDevice> device) {
        return devices.attach_virtio(std::move(id), std::move(device), *vm, *memory, *loop);
    }

    // Filled in order by build_vmm() (vm_builder.cpp); members are destroyed in reverse.
    std::optional<Kvm> kvm;
    std::optional<Vm> vm;
    std::optional<GuestMemory> memory;
    std::unique_ptr<Lifecycle> lifecycle;
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<HostConsole> serial_host;
    std::unique_ptr<HostConsole> console_host;  // virtio-console, when configured
    DeviceManager devices;                      // its devices write to the host consoles
    std::shared_ptr<SerialPort> serial;
    HostConsole::InputSink console_input;
    std::vector<Vcpu> vcpus;
    std::vector<uint32_t> msr_indices;  // the MSRs saved per vCPU
    bool has_pit = false;
    std::vector<std::unique_ptr<VcpuRunner>> runners;

private:
    Status serve_signals();
    Status serve_control();
    Status request(State wanted);
    void apply_control();
    void kick_vcpus();

    UniqueFd m_signal_fd;
    UniqueFd m_control_fd;
    std::unique_ptr<PauseGate> m_gate;
    mutable std::mutex m_state_mutex;
    std::condition_variable m_state_changed;
    State m_state = State::Created;
    State m_wanted = State::Created;
};

}  // namespace vmm
