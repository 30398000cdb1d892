#include "vmm/vmm.h"

#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "devices/virtio/block.h"
#include "devices/virtio/net.h"
#include "devices/virtio/virtio.h"
#include "vmm/device_state_codec.h"
#include "vmm/device_states.h"
#include "vmm/machine_state_codec.h"
#include "vmm/snapshot.h"

namespace vmm {

Status Vmm::serve_signals() {
    // Blocked here, before any vCPU thread exists, so every thread inherits the mask and
    // SIGINT/SIGTERM arrive only through the signalfd on this loop.
    const sigset_t set = stop_signals();
    if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0)
        return Error(ErrorKind::Internal, "pthread_sigmask failed");
    int fd = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("signalfd");
    m_signal_fd.reset(fd);
    return m_parts->loop->add(fd, EPOLLIN, [this](uint32_t) {
        signalfd_siginfo info{};
        if (::read(m_signal_fd.get(), &info, sizeof info) != sizeof info)
            return;
        m_parts->lifecycle->request_stop(exit_status::SIGNAL_BASE + static_cast<int>(info.ssi_signo),
                                fmt::format("stopped by {}", strsignal(static_cast<int>(info.ssi_signo))));
    });
}

Status Vmm::serve_control() {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0)
        return Error::from_errno("eventfd");
    m_control_fd.reset(fd);
    return m_parts->loop->add(fd, EPOLLIN, [this](uint32_t) {
        uint64_t count;
        if (::read(m_control_fd.get(), &count, sizeof count) == sizeof count)
            apply_control();
    });
}

void Vmm::kick_vcpus() {
    for (auto& runner : m_runners)
        runner->kick();
}

// On the loop thread: brings the VM to the state a pause()/resume() asked for.
void Vmm::apply_control() {
    State wanted;
    {
        std::lock_guard lock(m_state_mutex);
        wanted = m_wanted;
        if (wanted == m_state)
            return;
    }
    Status status;
    if (wanted == State::Paused) {
        m_gate->close([this] { kick_vcpus(); });
        status = m_parts->loop->set_paused(EventGroup::Device, true);
    } else {
        status = m_parts->loop->set_paused(EventGroup::Device, false);
        m_gate->open();
    }
    if (!status.ok())
        m_parts->lifecycle->request_stop(exit_status::VMM_ERROR, status.error().message());
    std::lock_guard lock(m_state_mutex);
    m_state = wanted;
    m_state_changed.notify_all();
}

Status Vmm::request(State wanted) {
    std::lock_guard one_at_a_time(m_request_mutex);  // each request sees its own outcome
    std::unique_lock lock(m_state_mutex);
    if (m_state != State::Running && m_state != State::Paused)
        return Error(ErrorKind::Busy, "the VM is not running");
    m_wanted = wanted;
    const uint64_t one = 1;
    if (::write(m_control_fd.get(), &one, sizeof one) != sizeof one)
        return Error::from_errno("control eventfd");
    m_state_changed.wait(lock, [&] { return m_state == wanted || m_state == State::Stopped; });
    if (m_state == State::Stopped)
        return Error(ErrorKind::Busy, "the VM stopped");
    return {};
}

Result<MachineState> Vmm::save_machine() const {
    if (state() != State::Paused)
        return Error(ErrorKind::Busy, "the VM's state can be saved only while it is paused");
    MachineState machine{TRY(save_vm_state(*m_parts->vm, m_parts->has_pit)), {}};
    for (const auto& vcpu : m_parts->vcpus)
        machine.vcpus.push_back(TRY(save_vcpu_state(vcpu, m_parts->msr_indices)));
    return machine;
}

Status Vmm::restore_machine(const MachineState& machine) {
    if (state() != State::Paused)
        return Error(ErrorKind::Busy, "the VM's state can be restored only while it is paused");
    if (machine.vcpus.size() != m_parts->vcpus.size())
        return Error(fmt::format("the state has {} vCPUs, the VM {}", machine.vcpus.size(), m_parts->vcpus.size()));
    TRY(restore_vm_state(*m_parts->vm, machine.vm));
    for (size_t i = 0; i < m_parts->vcpus.size(); ++i)
        TRY(restore_vcpu_state(m_parts->vcpus[i], machine.vcpus[i]));
    return {};
}

Result<DirtyPages> Vmm::take_dirty_pages() {
    const GuestMemory& memory = *m_parts->memory;
    DirtyPages pages = TRY(collect_dirty_pages(*m_parts->vm, memory));
    if (m_parts->config.memory_backend.track_dirty) {
        // Kept until a snapshot is written: a failed one (or a migration) loses no page for
        // the next diff.
        if (m_unsaved.regions.empty())
            m_unsaved = DirtyPages::none(memory);
        m_unsaved.merge(pages);
    }
    return pages;
}

Status Vmm::start_dirty_tracking() {
    GuestMemory& memory = *m_parts->memory;
    if (memory.tracks_dirty())
        return {};
    uint32_t slot = 0;
    for (const auto& region : memory.regions())
        TRY(m_parts->vm->set_user_memory_region(slot++, region.gpa, region.size, region.host, true));
    memory.start_tracking_dirty();
    return {};
}

Result<StateFile> Vmm::save_state() const {
    const MachineState machine = TRY(save_machine());
    StateFile file;
    StateEncoder config;
    encode_config(m_parts->config, config);
    file.add(CONFIG_TAG, config.take());
    StateEncoder layout;
    encode_memory_layout(*m_parts->memory, layout);
    file.add(MEMORY_LAYOUT_TAG, layout.take());
    encode_machine_state(machine, file);
    for (const auto& platform : m_parts->platform_states)
        file.add(platform.tag, platform.save());
    StateEncoder virtio;
    const auto& slots = m_parts->devices.virtio_slots();
    virtio.put(static_cast<uint32_t>(slots.size()));
    for (const auto& slot : slots) {
        virtio.put_string(slot.id);
        virtio.put(slot.transport->device().device_id());
        if (!slot.mmio)
            return Error(fmt::format("snapshot: device '{}' is not on virtio-mmio", slot.id));
        encode_state(slot.mmio->save(), virtio);
        virtio.put_vector(TRY(save_device_state(slot)));
    }
    file.add(VIRTIO_TAG, virtio.take());
    return file;
}

Status Vmm::snapshot(const std::string& state_path, const std::string& memory_path, SnapshotKind kind) {
    TRY(check_snapshottable(m_parts->config));
    const GuestMemory& memory = *m_parts->memory;
    const bool tracking = m_parts->config.memory_backend.track_dirty;
    const bool diff = kind == SnapshotKind::Diff;
    if (diff && !tracking)
        return Error("snapshot: a Diff snapshot needs dirty page tracking from the VM's start (machine-config "
                     "track_dirty_pages, --memory track_dirty_pages=on, or track_dirty_pages on snapshot-load)");
    std::lock_guard lock(m_snapshot_mutex);
    const StateFile file = TRY(save_state());
    if (tracking)
        TRY(take_dirty_pages());
    TRY(write_memory_file(memory, memory_path, diff ? &m_unsaved : nullptr));
    TRY(write_state_file(file, state_path));
    if (diff)
        spdlog::info("diff snapshot written: state '{}', memory '{}' ({} of {} MiB written since the last snapshot)",
                     state_path, memory_path, (m_unsaved.count() * DIRTY_PAGE_SIZE) >> 20, memory.total_size() >> 20);
    else
        spdlog::info("snapshot written: state '{}', memory '{}' ({} MiB)", state_path, memory_path,
                     memory.total_size() >> 20);
    if (tracking)
        m_unsaved = DirtyPages::none(memory);
    return {};
}

Vmm::Metrics Vmm::metrics() const {
    Metrics metrics;
    for (const auto& slot : m_parts->devices.virtio_slots())
        metrics.devices.push_back({slot.id, slot.transport->device().device_id(), slot.transport->device().counters()});
    // The runners exist from the moment the state leaves Created, and until the Vmm is gone.
    std::lock_guard lock(m_state_mutex);
    if (m_state != State::Created) {
        for (const auto& runner : m_runners)
            metrics.vcpu_exits.push_back(runner->exit_counters());
    }
    return metrics;
}

Status Vmm::pause() { return request(State::Paused); }
Status Vmm::resume() { return request(State::Running); }

Status Vmm::send_ctrl_alt_del() {
    if (!m_parts->ctrl_alt_del)
        return Error(ErrorKind::InvalidInput, "this machine has no keyboard for Ctrl+Alt+Del");
    if (!m_parts->ctrl_alt_del())
        return Error(ErrorKind::Busy, "the guest has not read the keys sent before (the keyboard buffer is full)");
    return {};
}

Status Vmm::update_drive(std::string_view id, const std::string& path) {
    const VirtioSlot* slot = m_parts->devices.find(id);
    if (!slot)
        return Error(ErrorKind::NotFound, fmt::format("no drive '{}'", id));
    return slot->transport->change_device([&](virtio::VirtioDevice& device) -> Status {
        if (device.device_id() != virtio::device_id::BLOCK)
            return Error(fmt::format("'{}' is not a drive", id));
        auto& block = static_cast<virtio::Block&>(device);
        if (TRY(block.disk().is(path)))
            return block.change_disk(std::nullopt);
        return block.change_disk(TRY(virtio::DiskFile::open(path, block.disk().readonly(),
                                                             block.format() == virtio::DiskFormat::Qcow2)));
    });
}

Vmm::State Vmm::state() const {
    std::lock_guard lock(m_state_mutex);
    return m_state;
}

int Vmm::run(const SeccompFilters& filters, bool start_paused) {
    auto setup = [this]() -> Status {
        TRY(serve_signals());
        TRY(serve_control());
        TRY(m_parts->loop->add(m_parts->lifecycle->event_fd(), EPOLLIN, [this](uint32_t) { m_parts->loop->stop(); }));
        TRY(m_parts->serial_host->attach_input(*m_parts->loop, [this](std::span<const uint8_t> bytes) {
            return m_parts->serial->with_model([bytes](Serial& uart) { return uart.enqueue_input(bytes); });
        }));
        if (m_parts->console_host)
            TRY(m_parts->console_host->attach_input(*m_parts->loop, m_parts->console_input));
        TRY(VcpuRunner::install_kick_handler());
        return {};
    }();
    if (!setup.ok()) {
        spdlog::error("{}", setup.error().message());
        return exit_status::for_error(setup.error().kind());
    }
    m_gate = std::make_unique<PauseGate>(m_parts->vcpus.size());
    std::latch go(1);
    for (auto& vcpu : m_parts->vcpus) {
        m_runners.push_back(std::make_unique<VcpuRunner>(vcpu, m_parts->devices.pio_bus(), m_parts->devices.mmio_bus(),
                                                         *m_parts->memory, *m_parts->lifecycle, *m_gate));
        m_runners.back()->start(filters, go);
    }
    if (start_paused) {
        m_gate->close_before_start();
        kick_vcpus();
        if (auto status = m_parts->loop->set_paused(EventGroup::Device, true); !status.ok())
            m_parts->lifecycle->request_stop(exit_status::VMM_ERROR, status.error().message());
    }
    // Last, once no thread is left to create: from here this thread runs the devices.
    if (auto status = filters.apply(ThreadKind::Vmm); !status.ok())
        m_parts->lifecycle->request_stop(exit_status::VMM_ERROR, status.error().message());
    go.count_down();
    {
        std::lock_guard lock(m_state_mutex);
        m_state = m_wanted = start_paused ? State::Paused : State::Running;
    }
    if (auto status = m_parts->loop->run(); !status.ok())
        m_parts->lifecycle->request_stop(exit_status::VMM_ERROR, status.error().message());
    {
        std::lock_guard lock(m_state_mutex);
        m_state = State::Stopped;
        m_state_changed.notify_all();
    }
    m_gate->release();
    for (auto& runner : m_runners)
        runner->stop_and_join();

    const int code = m_parts->lifecycle->exit_code();
    if (code == exit_status::GUEST_ENDED || code == exit_status::MIGRATED || code % 2 == 1)
        spdlog::info("VM stopped: {} (exit status {})", m_parts->lifecycle->reason(), code);
    else
        spdlog::error("VM stopped: {} (exit status {})", m_parts->lifecycle->reason(), code);
    return code;
}

}  // namespace vmm
