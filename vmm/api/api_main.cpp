#include "vmm/api/api_main.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/unique_fd.h"
#include "vmm/api/api_server.h"
#include "vmm/api/controller.h"
#include "vmm/key_values.h"
#include "vmm/lifecycle.h"

namespace vmm::api {

namespace {

constexpr size_t MAX_CONFIG_FILE = 1 << 20;

Result<Json> read_config_file(const std::string& path) {
    const std::string what = fmt::format("config file '{}'", path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(what);
    std::string text(MAX_CONFIG_FILE + 1, '\0');
    size_t used = 0;
    while (used < text.size()) {
        ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
        if (n < 0)
            return Error::from_errno(what);
        if (n == 0)
            break;
        used += static_cast<size_t>(n);
    }
    if (used > MAX_CONFIG_FILE)
        return Error(fmt::format("{}: larger than {} KiB", what, MAX_CONFIG_FILE >> 10));
    text.resize(used);
    auto document = parse_json(text);
    if (!document.ok())
        return document.error().context(what);
    return document;
}

int fail(const Error& error) {
    spdlog::error("{}", error.message());
    return exit_status::for_error(error.kind());
}

}  // namespace

Result<SnapshotLoadRequest> parse_restore(std::string_view text) {
    const std::string where = fmt::format("--restore '{}'", text);
    SnapshotLoadRequest request;
    request.resume_vm = true;
    for (const auto& [key, value] : TRY(split_key_values(text, where))) {
        if (key == "snapshot" && !value.empty()) {
            request.snapshot_path = value;
        } else if (key == "memory" && !value.empty()) {
            request.mem_file_path = value;
        } else if (key == "resume" && (value == "on" || value == "off")) {
            request.resume_vm = value == "on";
        } else if (key == "track_dirty_pages" && (value == "on" || value == "off")) {
            request.track_dirty_pages = value == "on";
        } else {
            return Error(fmt::format("{}: bad '{}={}' (snapshot=PATH, memory=PATH, resume=on|off, "
                                     "track_dirty_pages=on|off)", where, key, value));
        }
    }
    if (request.snapshot_path.empty() || request.mem_file_path.empty())
        return Error(where + ": snapshot=PATH and memory=PATH are required");
    return request;
}

int run(const VmConfig& base, const ApiOptions& options, const SeccompFilters& filters) {
    // Before any thread starts: SIGINT/SIGTERM only through signalfds, a client that hangs up
    // is an error on its socket, not a SIGPIPE.
    const sigset_t set = stop_signals();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    auto controller = Controller::create(VmResources(base), options.id);
    if (!controller.ok())
        return fail(controller.error());
    if (!options.config_file.empty()) {
        auto document = read_config_file(options.config_file);
        if (!document.ok())
            return fail(document.error());
        if (auto status = (*controller)->apply_document(*document); !status.ok())
            return fail(status.error().context(fmt::format("config file '{}'", options.config_file)));
    }
    std::unique_ptr<ApiServer> server;
    if (!options.api_sock.empty()) {
        auto started = ApiServer::start(options.api_sock, **controller, filters);
        if (!started.ok())
            return fail(started.error());
        server = std::move(started).value();
    }
    if (!options.config_file.empty() || options.restore || !options.migrate_from.empty()) {
        if (auto status = (*controller)->start_now(options.restore, options.migrate_from); !status.ok())
            return fail(status.error());
    }
    return (*controller)->serve(filters);
}

}  // namespace vmm::api
