// A built VM and everything it owns; run() drives it to the end and returns the exit status.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "devices/virtio/mmio_transport.h"
#include "vmm/bus.h"
#include "vmm/event_loop.h"
#include "base/guest_memory.h"
#include "vmm/kvm.h"
#include "vmm/kvm_irq_line.h"
#include "vmm/lifecycle.h"
#include "devices/legacy/byte_register_device.h"
#include "devices/legacy/serial_port.h"
#include "vmm/host_console.h"
#include "vmm/vcpu_runner.h"

namespace vmm {

class Vmm {
public:
    // Starts the vCPU threads, serves events until the VM stops, joins the threads.
    int run();

    // Filled in order by build_vmm() (vm_builder.cpp); members are destroyed in reverse.
    std::optional<Kvm> kvm;
    std::optional<Vm> vm;
    std::optional<GuestMemory> memory;
    std::unique_ptr<Lifecycle> lifecycle;
    std::unique_ptr<EventLoop> loop;
    Bus pio_bus;
    Bus mmio_bus;
    std::vector<std::unique_ptr<KvmIrqLine>> irq_lines;
    std::unique_ptr<HostConsole> serial_host;
    std::shared_ptr<SerialPort> serial;
    std::unique_ptr<HostConsole> console_host;  // virtio-console, when configured
    HostConsole::InputSink console_input;
    std::vector<std::unique_ptr<Interrupt>> interrupts;
    std::vector<std::shared_ptr<virtio::MmioTransport>> virtio_devices;
    std::vector<UniqueFd> queue_notify_fds;
    std::vector<Vcpu> vcpus;
    std::vector<std::unique_ptr<VcpuRunner>> runners;

private:
    Status serve_signals();

    UniqueFd m_signal_fd;
};

}  // namespace vmm
