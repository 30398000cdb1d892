// The API's requests, as Firecracker serves them: configuration before boot (VmResources),
// InstanceStart, and the running VM's state. handle() is called on the HTTP server's threads,
// never a vCPU's; the VM is built and run on the thread that calls serve() (Ember's main).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/unique_fd.h"
#include "vmm/api/snapshot_requests.h"
#include "vmm/api/vm_resources.h"
#include "vmm/vmm.h"

namespace vmm::api {

struct Response {
    Response() = default;
    Response(int status_code, Json json, std::string plain = {})
        : status(status_code), body(std::move(json)), text(std::move(plain)) {}

    int status = 204;
    Json body;         // null: no JSON body
    std::string text;  // a text/plain body instead (GET /metrics)

    static Response error(int status, std::string message) {
        return {status, Json{{"fault_message", std::move(message)}}};
    }
};

class Controller {
public:
    static Result<std::unique_ptr<Controller>> create(VmResources resources, std::string instance_id);

    Response handle(std::string_view method, std::string_view path, std::string_view body);

    // A --config-file document: the VM's sections, then "logger" and "metrics" as their PUTs.
    Status apply_document(const Json& document);
    Status apply_logger(const Json& body);
    Status apply_metrics(const Json& body);
    // Builds the VM now, as InstanceStart does (a config file without the API, or with it),
    // or restores `restore` as PUT /snapshot/load does (--restore), or waits for the VM a
    // live migration brings to `migrate_from` (--migrate-from).
    Status start_now(std::optional<SnapshotLoadRequest> restore = std::nullopt, std::string migrate_from = {});

    // Waits for InstanceStart (building the VM on this thread and answering it), runs the VM,
    // and returns Ember's exit status; SIGINT/SIGTERM end the wait (the caller blocks them
    // before create()). The VM's threads install their `filters` before it runs.
    int serve(const SeccompFilters& filters = SeccompFilters::none());

    // Metrics as one JSON line, Firecracker's form (FlushMetrics, and every 60 s once PUT
    // /metrics named a file): API requests by status, each device's counters by id, each
    // vCPU's exits by reason.
    Json metrics() const;
    // The same in Prometheus' text format (GET /metrics, an extension).
    std::string prometheus() const;
    ~Controller();

private:
    enum class Phase { NotStarted, Starting, Started };
    Controller(VmResources resources, std::string instance_id, UniqueFd wake, UniqueFd signals)
        : m_resources(std::move(resources)), m_id(std::move(instance_id)), m_wake(std::move(wake)),
          m_signals(std::move(signals)) {}

    Response route(std::string_view method, std::string_view path, std::string_view body);
    Response pre_boot(std::string_view method, std::string_view path, const Json& body);
    Response action(const Json& body);
    Response set_vm_state(const Json& body);
    Response patch_drive(std::string_view id, const Json& body);
    Response patch_network_interface(std::string_view id, const Json& body);
    Response instance_info() const;
    std::shared_ptr<Vmm> started_vmm() const;  // null before InstanceStart has built it
    // InstanceStart, or a snapshot load (`restore`): the VM built on serve()'s thread.
    Response start_from_api(std::optional<SnapshotLoadRequest> restore = std::nullopt);
    Response create_snapshot(const Json& body);
    Response load_snapshot(const Json& body);
    Response migrate(const Json& body);
    Status build();
    Status flush_metrics();
    void flush_every_minute();

    mutable std::mutex m_mutex;
    VmResources m_resources;
    std::string m_id;
    UniqueFd m_wake;     // eventfd: an InstanceStart waits for serve()
    UniqueFd m_signals;  // SIGINT/SIGTERM before the VM runs (blocked by the caller)
    Phase m_phase = Phase::NotStarted;
    std::optional<Status> m_start_outcome;
    std::optional<SnapshotLoadRequest> m_restore;  // what the build restores instead of booting
    bool m_start_paused = false;                   // a snapshot loaded without resume_vm
    std::string m_migrate_from;                    // the build receives a migrating VM there
    std::condition_variable m_started;
    std::shared_ptr<Vmm> m_vmm;
    UniqueFd m_metrics;
    std::map<int, uint64_t> m_requests_by_status;
    std::thread m_flusher;
    bool m_stopping = false;
    std::condition_variable m_stop;
};

}  // namespace vmm::api
