#include "vmm/vmm.h"

#include <signal.h>
#include <sys/signalfd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace vmm {

Status Vmm::serve_signals() {
    // Blocked here, before any vCPU thread exists, so every thread inherits the mask and
    // SIGINT/SIGTERM arrive only through the signalfd on this loop.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0)
        return Error(ErrorKind::Internal, "pthread_sigmask failed");
    int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("signalfd");
    m_signal_fd.reset(fd);
    return loop->add(fd, EPOLLIN, [this](uint32_t) {
        signalfd_siginfo info{};
        if (::read(m_signal_fd.get(), &info, sizeof info) != sizeof info)
            return;
        lifecycle->request_stop(exit_status::SIGNAL_BASE + static_cast<int>(info.ssi_signo),
                                fmt::format("stopped by {}", strsignal(static_cast<int>(info.ssi_signo))));
    });
}

int Vmm::run() {
    auto setup = [this]() -> Status {
        TRY(serve_signals());
        TRY(loop->add(lifecycle->event_fd(), EPOLLIN, [this](uint32_t) { loop->stop(); }));
        TRY(serial_host->attach_input(*loop, [this](std::span<const uint8_t> bytes) {
            return serial->with_model([bytes](Serial& uart) { return uart.enqueue_input(bytes); });
        }));
        if (console_host)
            TRY(console_host->attach_input(*loop, console_input));
        TRY(VcpuRunner::install_kick_handler());
        return {};
    }();
    if (!setup.ok()) {
        spdlog::error("{}", setup.error().message());
        return exit_status::for_error(setup.error().kind());
    }
    for (auto& vcpu : vcpus) {
        runners.push_back(std::make_unique<VcpuRunner>(vcpu, devices.pio_bus(), devices.mmio_bus(), *memory, *lifecycle));
        runners.back()->start();
    }
    if (auto status = loop->run(); !status.ok())
        lifecycle->request_stop(exit_status::VMM_ERROR, status.error().message());
    for (auto& runner : runners)
        runner->stop_and_join();

    const int code = lifecycle->exit_code();
    if (code == exit_status::GUEST_ENDED || code % 2 == 1)
        spdlog::info("VM stopped: {} (exit status {})", lifecycle->reason(), code);
    else
        spdlog::error("VM stopped: {} (exit status {})", lifecycle->reason(), code);
    return code;
}

}  // namespace vmm
