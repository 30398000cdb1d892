// What a VM is made of, put together by build_vmm() (vm_builder.cpp) and the Machine, then
// handed to the Vmm, which alone uses it from then on. Held through a pointer: devices keep
// references to its members (guest memory, the event loop), so it never moves.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/guest_memory.h"
#include "base/unique_fd.h"
#include "devices/legacy/serial_port.h"
#include "vmm/device_manager.h"
#include "vmm/event_loop.h"
#include "vmm/host_console.h"
#include "vmm/kvm.h"
#include "vmm/lifecycle.h"
#include "vmm/virtiofsd.h"
#include "vmm/vm_config.h"

namespace vmm {

// A platform device's state for snapshots (the virtio devices' is their transports'): its own
// section of the state file, written by save() and read back by restore() (which checks it).
struct PlatformState {
    uint32_t tag;
    std::function<std::vector<uint8_t>()> save;
    std::function<Status(std::span<const uint8_t>)> restore;
};

struct VmParts {
    // Places a virtio device on this VM (DeviceManager::attach_virtio).
    Result<VirtioSlot> attach_virtio(std::string id, std::unique_ptr<virtio::VirtioDevice> device) {
        return devices.attach_virtio(std::move(id), std::move(device), *vm, *memory, *loop);
    }

    // Filled in order; members are destroyed in reverse.
    std::optional<Kvm> kvm;
    std::optional<Vm> vm;
    std::optional<GuestMemory> memory;
    std::unique_ptr<Lifecycle> lifecycle;
    std::unique_ptr<EventLoop> loop;
    std::unique_ptr<HostConsole> serial_host;
    std::unique_ptr<HostConsole> console_host;  // virtio-console, when configured
    std::vector<Virtiofsd> fs_daemons;          // --fs dir=: stopped after their devices close
    DeviceManager devices;                      // its devices write to the host consoles
    std::shared_ptr<SerialPort> serial;
    HostConsole::InputSink console_input;
    // Presses Ctrl+Alt+Del on the machine's keyboard: false when its buffer is full; empty
    // where the machine has no keyboard.
    std::function<bool()> ctrl_alt_del;
    std::vector<Vcpu> vcpus;
    std::vector<uint32_t> msr_indices;  // the MSRs saved per vCPU
    bool has_pit = false;
    std::vector<PlatformState> platform_states;  // the serial port, keyboard controller, CMOS
    VmConfig config;                             // what the VM was built from (a snapshot keeps it)
    UniqueFd timeout_timer;  // a timerfd on the loop, with --timeout
    // mem_backend Uffd: the userfaultfd and the page fault handler's socket, held while the VM
    // lives (should the handler die, a fault waits rather than reads zeros).
    std::vector<UniqueFd> memory_handler;
};

}  // namespace vmm
