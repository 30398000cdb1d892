// A built VM: run() drives it to the end and returns the exit status; from other threads it can
// be paused, resumed, saved and restored. What it is made of (VmParts) is its own.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "base/state_file.h"
#include "vmm/dirty_pages.h"
#include "vmm/machine_state.h"
#include "vmm/pause_gate.h"
#include "vmm/seccomp.h"
#include "vmm/vcpu_runner.h"
#include "vmm/vm_parts.h"

namespace vmm {

class Vmm {
public:
    enum class State { Created, Running, Paused, Stopped };

    // Takes the machine build_vmm() put together (vm_builder.cpp).
    explicit Vmm(std::unique_ptr<VmParts> parts) : m_parts(std::move(parts)) {}

    // Starts the vCPU threads, serves events until the VM stops, joins the threads. The
    // vCPU threads and this one install their seccomp filters before the guest runs.
    // start_paused: the vCPUs park before their first instruction and device events are held,
    // as after pause() (a restored VM the API resumes later).
    int run(const SeccompFilters& filters = SeccompFilters::none(), bool start_paused = false);

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

    // Writes a snapshot (snapshot.h) of the paused VM: its state file and memory file. Full:
    // all of RAM. Diff: only the pages written since the last snapshot this process took or
    // restored (or since boot), which needs dirty page tracking (MemoryConfig::track_dirty).
    enum class SnapshotKind { Full, Diff };
    Status snapshot(const std::string& state_path, const std::string& memory_path,
                    SnapshotKind kind = SnapshotKind::Full);
    // The state file of the paused VM, without its memory (snapshot.h's sections).
    Result<StateFile> save_state() const;

    // Moves the running (or paused) VM to the Ember receiving at `url` (migration.h): pre-copy
    // rounds of memory while it runs, then a pause, the last pages and the state. When the
    // receiver has the VM running, this VM stops with exit_status::MIGRATED; before that, any
    // failure leaves it as it was (resumed if it was running) and is returned.
    Status migrate(const std::string& url);

    // What the devices and vCPUs counted so far; from any thread once run() started them
    // (empty before).
    struct Metrics {
        struct Device {
            std::string id;
            uint32_t type;  // virtio device id: 1 net, 2 block, 3 console, 4 entropy
            std::vector<CounterValue> counters;
        };
        std::vector<Device> devices;
        std::vector<std::vector<CounterValue>> vcpu_exits;
    };
    Metrics metrics() const;

    // Ctrl+Alt+Del on the guest's keyboard (x86's i8042), from any thread while run() serves
    // the VM; an error when the machine has none or the guest has not read the last keys.
    Status send_ctrl_alt_del();

    // The drive `id` now reads `path`, another file or the same one resized, opened as
    // read-only as before; the guest's driver is told its configuration (capacity) changed.
    // From any thread while run() serves the VM.
    Status update_drive(std::string_view id, const std::string& path);

    // Ends the VM as a guest or signal would: the first request fixes the exit status.
    void stop(int exit_code, std::string reason) { m_parts->lifecycle->request_stop(exit_code, std::move(reason)); }

private:
    Status serve_signals();
    Status serve_control();
    Status request(State wanted);
    void apply_control();
    void kick_vcpus();
    // Guest and VMM writes since the last call; with config tracking, kept for the next diff.
    Result<DirtyPages> take_dirty_pages();
    Status start_dirty_tracking();
    // Every disk synced and unlocked for a migration's receiver (release), or locked again.
    Status hand_over_disks(bool release);

    std::unique_ptr<VmParts> m_parts;
    std::vector<std::unique_ptr<VcpuRunner>> m_runners;
    UniqueFd m_signal_fd;
    UniqueFd m_control_fd;
    std::unique_ptr<PauseGate> m_gate;
    std::mutex m_request_mutex;  // serializes pause()/resume() callers
    std::mutex m_snapshot_mutex;  // snapshots and migrations, one at a time
    DirtyPages m_unsaved;  // with track_dirty_pages: pages written since the last snapshot
    mutable std::mutex m_state_mutex;
    std::condition_variable m_state_changed;
    State m_state = State::Created;
    State m_wanted = State::Created;
};

}  // namespace vmm
