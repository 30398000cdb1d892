// A built VM and everything it owns; run() drives it to the end and returns the exit status.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "base/guest_memory.h"
#include "devices/legacy/serial_port.h"
#include "vmm/device_manager.h"
#include "vmm/event_loop.h"
#include "vmm/host_console.h"
#include "vmm/kvm.h"
#include "vmm/lifecycle.h"
#include "vmm/vcpu_runner.h"

namespace vmm {

class Vmm {
public:
    // Starts the vCPU threads, serves events until the VM stops, joins the threads.
    int run();

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
    std::vector<std::unique_ptr<VcpuRunner>> runners;

private:
    Status serve_signals();

    UniqueFd m_signal_fd;
};

}  // namespace vmm
