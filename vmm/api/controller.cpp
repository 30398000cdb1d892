#include "vmm/api/controller.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <chrono>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "vmm/lifecycle.h"
#include "vmm/logging.h"
#include "vmm/vm_builder.h"

namespace vmm::api {

namespace {

constexpr const char* VERSION = "0.1.0";
constexpr const char* AFTER_START = "The requested operation is not supported after starting the microVM.";
constexpr const char* BEFORE_START = "The requested operation is not supported before starting the microVM.";

Response bad_request(const Error& error) { return Response::error(400, error.message()); }
Response from(const Status& status) { return status.ok() ? Response{} : bad_request(status.error()); }

// "/drives/ID" -> "ID" when `path` is under `prefix` with one non-empty segment after it.
std::optional<std::string_view> id_under(std::string_view path, std::string_view prefix) {
    if (!path.starts_with(prefix) || path.size() == prefix.size())
        return std::nullopt;
    auto id = path.substr(prefix.size());
    if (id.find('/') != std::string_view::npos)
        return std::nullopt;
    return id;
}

std::optional<spdlog::level::level_enum> parse_level(std::string text) {
    for (auto& c : text)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (text == "error") return spdlog::level::err;
    if (text == "warning" || text == "warn") return spdlog::level::warn;
    if (text == "info") return spdlog::level::info;
    if (text == "debug") return spdlog::level::debug;
    if (text == "trace") return spdlog::level::trace;
    if (text == "off") return spdlog::level::off;
    return std::nullopt;
}

}  // namespace

Result<std::unique_ptr<Controller>> Controller::create(VmResources resources, std::string instance_id) {
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake.valid())
        return Error::from_errno("eventfd for the API");
    const sigset_t set = stop_signals();
    UniqueFd signals(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals.valid())
        return Error::from_errno("signalfd for the API");
    return std::unique_ptr<Controller>(
        new Controller(std::move(resources), std::move(instance_id), std::move(wake), std::move(signals)));
}

Response Controller::handle(std::string_view method, std::string_view path, std::string_view body) {
    Response response = route(method, path, body);
    std::lock_guard lock(m_mutex);
    ++m_requests_by_status[response.status];
    return response;
}

Response Controller::route(std::string_view method, std::string_view path, std::string_view text) {
    if (method == "GET") {
        if (path == "/")
            return instance_info();
        if (path == "/version")
            return {200, Json{{"firecracker_version", VERSION}}};
        if (path == "/metrics")
            return {200, Json(), prometheus()};
        std::lock_guard lock(m_mutex);
        if (path == "/vm/config")
            return {200, m_resources.full_config()};
        if (path == "/machine-config")
            return {200, m_resources.machine_config()};
    } else if (method == "PUT" || method == "PATCH") {
        auto body = parse_json(text);
        if (!body.ok())
            return bad_request(body.error());
        if (method == "PUT" && path == "/actions")
            return action(*body);
        if (method == "PATCH" && path == "/vm")
            return set_vm_state(*body);
        if (method == "PUT" && path == "/snapshot/create")
            return create_snapshot(*body);
        if (method == "PUT" && path == "/snapshot/load")
            return load_snapshot(*body);
        if (method == "PUT" && path == "/migrate")
            return migrate(*body);
        if (method == "PUT" && path == "/logger")
            return from(apply_logger(*body));
        if (method == "PUT" && path == "/metrics")
            return from(apply_metrics(*body));
        if (method == "PATCH") {
            if (auto id = id_under(path, "/drives/"))
                return patch_drive(*id, *body);
            if (auto id = id_under(path, "/network-interfaces/"))
                return patch_network_interface(*id, *body);
        }
        Response r = pre_boot(method, path, *body);
        if (r.status != 404)
            return r;
    }
    return Response::error(400, fmt::format("Invalid request method and/or path: {} {}.", method, path));
}

// The pre-boot resources; 404 (not sent) when `path` is none of them.
Response Controller::pre_boot(std::string_view method, std::string_view path, const Json& body) {
    std::lock_guard lock(m_mutex);
    auto configure = [&](auto&& apply) {
        if (m_phase != Phase::NotStarted)
            return Response::error(400, AFTER_START);
        return from(apply());
    };
    if (method == "PUT") {
        if (path == "/boot-source")
            return configure([&] { return m_resources.put_boot_source(body); });
        if (path == "/machine-config")
            return configure([&] { return m_resources.put_machine_config(body); });
        if (path == "/entropy")
            return configure([&] { return m_resources.put_entropy(body); });
        if (path == "/vsock")
            return configure([&] { return m_resources.put_vsock(body); });
        if (auto id = id_under(path, "/drives/"))
            return configure([&] { return m_resources.put_drive(*id, body); });
        if (auto id = id_under(path, "/network-interfaces/"))
            return configure([&] { return m_resources.put_network_interface(*id, body); });
    } else if (path == "/machine-config") {
        return configure([&] { return m_resources.patch_machine_config(body); });
    }
    return Response::error(404, "");
}

Response Controller::instance_info() const {
    auto vmm = started_vmm();
    const char* state = "Not started";
    if (vmm)
        state = vmm->state() == Vmm::State::Paused ? "Paused" : "Running";
    return {200, Json{{"app_name", "Ember"}, {"id", m_id}, {"state", state}, {"vmm_version", VERSION}}};
}

Response Controller::action(const Json& body) {
    auto fields = JsonFields::of(body, "action", {"action_type"});
    if (!fields.ok())
        return bad_request(fields.error());
    auto type = fields->one_of("action_type", {"InstanceStart", "SendCtrlAltDel", "FlushMetrics"});
    if (!type.ok())
        return bad_request(type.error());
    if (!*type)
        return bad_request(fields->missing("action_type"));
    if (**type == "InstanceStart")
        return start_from_api();
    if (**type == "FlushMetrics")
        return from(flush_metrics());
    auto vmm = started_vmm();
    if (!vmm)
        return Response::error(400, BEFORE_START);
    return from(vmm->send_ctrl_alt_del());
}

Response Controller::set_vm_state(const Json& body) {
    auto fields = JsonFields::of(body, "vm", {"state"});
    if (!fields.ok())
        return bad_request(fields.error());
    auto state = fields->one_of("state", {"Paused", "Resumed"});
    if (!state.ok())
        return bad_request(state.error());
    if (!*state)
        return bad_request(fields->missing("state"));
    auto vmm = started_vmm();
    if (!vmm)
        return Response::error(400, BEFORE_START);
    return from(**state == "Paused" ? vmm->pause() : vmm->resume());
}

// After boot only, as Firecracker: a new or resized backing file for a drive.
Response Controller::patch_drive(std::string_view id, const Json& body) {
    std::lock_guard lock(m_mutex);
    if (!m_vmm)
        return Response::error(400, BEFORE_START);
    auto path = m_resources.check_drive_patch(id, body);
    if (!path.ok())
        return bad_request(path.error());
    if (!*path)
        return {};
    if (auto changed = m_vmm->update_drive(id, **path); !changed.ok())
        return bad_request(changed.error());
    m_resources.drive_moved(id, **path);
    return {};
}

// After boot only: rate limiters, of which Ember takes only those that limit nothing.
Response Controller::patch_network_interface(std::string_view id, const Json& body) {
    std::lock_guard lock(m_mutex);
    if (!m_vmm)
        return Response::error(400, BEFORE_START);
    return from(m_resources.check_network_interface_patch(id, body));
}

std::shared_ptr<Vmm> Controller::started_vmm() const {
    std::lock_guard lock(m_mutex);
    return m_vmm;
}

Status Controller::apply_document(const Json& document) {
    {
        std::lock_guard lock(m_mutex);
        TRY(m_resources.apply_document(document));
    }
    for (auto [key, apply] : {std::pair{"logger", &Controller::apply_logger},
                              std::pair{"metrics", &Controller::apply_metrics}}) {
        auto it = document.find(key);
        if (it != document.end() && !it->is_null())
            TRY((this->*apply)(*it));
    }
    return {};
}

Status Controller::apply_logger(const Json& body) {
    auto f = TRY(JsonFields::of(body, "logger", {"log_path", "level", "show_level", "show_log_origin", "module"}));
    std::optional<spdlog::level::level_enum> level;
    if (auto text = TRY(f.string("level"))) {
        level = parse_level(*text);
        if (!level)
            return Error(fmt::format("logger: level '{}' is not one of Error, Warning, Info, Debug, Trace, Off", *text));
    }
    const bool show_level = TRY(f.boolean("show_level")).value_or(false);
    TRY(f.boolean("show_log_origin"));
    TRY(f.string("module"));
    if (auto path = TRY(f.string("log_path")))
        TRY(logging::log_to_file(*path, show_level));
    logging::set_level(level.value_or(spdlog::level::info));
    return {};
}

Status Controller::apply_metrics(const Json& body) {
    auto f = TRY(JsonFields::of(body, "metrics", {"metrics_path"}));
    auto path = TRY(f.string("metrics_path"));
    if (!path || path->empty())
        return f.missing("metrics_path");
    std::lock_guard lock(m_mutex);
    if (m_metrics.valid())
        return Error("metrics: the metrics file is already set");
    int fd = ::open(path->c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0600);
    if (fd < 0)
        return Error::from_errno(fmt::format("metrics: '{}'", *path));
    m_metrics.reset(fd);
    m_flusher = std::thread([this] { flush_every_minute(); });
    return {};
}

namespace {

const char* device_type(uint32_t id) {
    switch (id) {
    case 1: return "net";
    case 2: return "block";
    case 3: return "console";
    case 4: return "entropy";
    default: return "virtio";
    }
}

Json counters_json(const std::vector<CounterValue>& counters) {
    Json out = Json::object();
    for (const auto& c : counters)
        out[std::string(c.name)] = c.value;
    return out;
}

}  // namespace

Json Controller::metrics() const {
    std::shared_ptr<Vmm> vmm;
    Json by_status = Json::object();
    uint64_t total = 0;
    {
        std::lock_guard lock(m_mutex);
        vmm = m_vmm;
        for (auto [status, count] : m_requests_by_status) {
            by_status[std::to_string(status)] = count;
            total += count;
        }
    }
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    Json line = {{"utc_timestamp_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
                 {"api_server", {{"requests", total}, {"requests_by_status", by_status}}},
                 {"devices", Json::object()},
                 {"vcpus", Json::array()}};
    if (!vmm)
        return line;
    const Vmm::Metrics m = vmm->metrics();
    for (const auto& device : m.devices) {
        Json counters = counters_json(device.counters);
        counters["type"] = device_type(device.type);
        line["devices"][device.id] = counters;
    }
    for (const auto& exits : m.vcpu_exits)
        line["vcpus"].push_back({{"exits", counters_json(exits)}});
    return line;
}

std::string Controller::prometheus() const {
    const Json m = metrics();
    std::string out = "# TYPE ember_api_requests_total counter\n";
    for (const auto& [status, count] : m["api_server"]["requests_by_status"].items())
        out += fmt::format("ember_api_requests_total{{status=\"{}\"}} {}\n", status, count.get<uint64_t>());
    out += "# TYPE ember_device_counter counter\n";
    for (const auto& [id, counters] : m["devices"].items()) {
        for (const auto& [name, value] : counters.items()) {
            if (value.is_number())
                out += fmt::format("ember_device_counter{{device=\"{}\",type=\"{}\",counter=\"{}\"}} {}\n", id,
                                   counters["type"].get<std::string>(), name, value.get<uint64_t>());
        }
    }
    out += "# TYPE ember_vcpu_exits_total counter\n";
    for (size_t i = 0; i < m["vcpus"].size(); ++i) {
        for (const auto& [reason, value] : m["vcpus"][i]["exits"].items())
            out += fmt::format("ember_vcpu_exits_total{{vcpu=\"{}\",reason=\"{}\"}} {}\n", i, reason,
                               value.get<uint64_t>());
    }
    return out;
}

Status Controller::flush_metrics() {
    const std::string line = metrics().dump() + "\n";
    std::lock_guard lock(m_mutex);
    if (!m_metrics.valid())
        return Error("FlushMetrics: no metrics file; PUT /metrics first");
    if (::write(m_metrics.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        return Error::from_errno("FlushMetrics: writing the metrics file");
    return {};
}

void Controller::flush_every_minute() {
    std::unique_lock lock(m_mutex);
    while (!m_stop.wait_for(lock, std::chrono::seconds(60), [this] { return m_stopping; })) {
        lock.unlock();
        if (auto status = flush_metrics(); !status.ok())
            spdlog::warn("{}", status.error().message());  // at most once a minute
        lock.lock();
    }
}

Controller::~Controller() {
    {
        std::lock_guard lock(m_mutex);
        m_stopping = true;
    }
    m_stop.notify_all();
    if (m_flusher.joinable())
        m_flusher.join();
}

Response Controller::create_snapshot(const Json& body) {
    auto request = parse_snapshot_create(body);
    if (!request.ok())
        return bad_request(request.error());
    auto vmm = started_vmm();
    if (!vmm)
        return Response::error(400, BEFORE_START);
    if (vmm->state() != Vmm::State::Paused)
        return Response::error(400, "snapshot-create: the microVM must be paused first (PATCH /vm {\"state\": \"Paused\"})");
    return from(vmm->snapshot(request->snapshot_path, request->mem_file_path,
                              request->diff ? Vmm::SnapshotKind::Diff : Vmm::SnapshotKind::Full));
}

Response Controller::load_snapshot(const Json& body) {
    auto request = parse_snapshot_load(body);
    if (!request.ok())
        return bad_request(request.error());
    return start_from_api(std::move(*request));
}

Response Controller::migrate(const Json& body) {
    auto fields = JsonFields::of(body, "migrate", {"destination_url"});
    if (!fields.ok())
        return bad_request(fields.error());
    auto url = fields->string("destination_url");
    if (!url.ok())
        return bad_request(url.error());
    if (!*url || (*url)->empty())
        return bad_request(fields->missing("destination_url"));
    auto vmm = started_vmm();
    if (!vmm)
        return Response::error(400, BEFORE_START);
    return from(vmm->migrate(**url));
}

Response Controller::start_from_api(std::optional<SnapshotLoadRequest> restore) {
    std::unique_lock lock(m_mutex);
    if (m_phase != Phase::NotStarted)
        return Response::error(400, AFTER_START);
    m_phase = Phase::Starting;
    m_restore = std::move(restore);
    const uint64_t one = 1;
    if (::write(m_wake.get(), &one, sizeof one) != sizeof one) {
        m_phase = Phase::NotStarted;
        return bad_request(Error::from_errno("eventfd for the API"));
    }
    m_started.wait(lock, [this] { return m_start_outcome.has_value(); });
    Status outcome = std::move(*m_start_outcome);
    m_start_outcome.reset();
    return from(outcome);
}

Status Controller::build() {
    VmConfig config;
    std::optional<SnapshotLoadRequest> restore;
    std::string incoming;
    {
        std::lock_guard lock(m_mutex);
        config = m_resources.vm_config();
        restore = std::exchange(m_restore, std::nullopt);
        incoming = std::exchange(m_migrate_from, {});
        m_start_paused = restore && !restore->resume_vm;
    }
    if (restore)
        config.memory_backend.track_dirty = restore->track_dirty_pages;
    auto vmm = !incoming.empty() ? receive_migration(incoming, config)
               : restore         ? restore_vmm(restore->snapshot_path, restore->mem_file_path, config,
                                               restore->network_overrides, restore->uffd)
                                 : build_vmm(config);
    std::lock_guard lock(m_mutex);
    if (!vmm.ok()) {
        m_phase = Phase::NotStarted;
        return vmm.error();
    }
    m_vmm = std::shared_ptr<Vmm>(std::move(vmm).value());
    m_phase = Phase::Started;
    return {};
}

Status Controller::start_now(std::optional<SnapshotLoadRequest> restore, std::string migrate_from) {
    {
        std::lock_guard lock(m_mutex);
        m_phase = Phase::Starting;
        m_restore = std::move(restore);
        m_migrate_from = std::move(migrate_from);
    }
    return build();
}

int Controller::serve(const SeccompFilters& filters) {
    std::shared_ptr<Vmm> vmm;
    while (true) {
        if ((vmm = started_vmm()))
            break;
        pollfd fds[] = {{m_signals.get(), POLLIN, 0}, {m_wake.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
            spdlog::error("{}", Error::from_errno("poll for API requests").message());
            return exit_status::VMM_ERROR;
        }
        signalfd_siginfo info{};
        if ((fds[0].revents & POLLIN) && ::read(m_signals.get(), &info, sizeof info) == sizeof info) {
            spdlog::info("stopped by {} before the VM started", strsignal(static_cast<int>(info.ssi_signo)));
            return exit_status::SIGNAL_BASE + static_cast<int>(info.ssi_signo);
        }
        uint64_t count;
        if (!(fds[1].revents & POLLIN) || ::read(m_wake.get(), &count, sizeof count) != sizeof count)
            continue;
        Status outcome = build();
        if (!outcome.ok())
            spdlog::error("{}", outcome.error().message());
        std::lock_guard lock(m_mutex);
        m_start_outcome = std::move(outcome);
        m_started.notify_all();
    }
    m_signals.reset();  // the VM's loop has its own
    const int status = vmm->run(filters, m_start_paused);
    (void)flush_metrics();  // the last line, as Firecracker writes at exit (an error without a file)
    return status;
}

}  // namespace vmm::api
