// ember: parse the command line, build the VM, run it, exit with how it ended.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include <spdlog/spdlog.h>

#include "vmm/cli.h"
#include "vmm/api/api_client.h"
#include "vmm/api/api_main.h"
#include "vmm/lifecycle.h"
#include "vmm/logging.h"
#include "vmm/seccomp.h"
#include "vmm/vm_builder.h"

namespace {

// Started with stdin, stdout or stderr closed, the next open() would land on 0-2 and be taken
// for a terminal (the console would read the KVM fd as its input): put /dev/null there.
void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        int null_fd = ::open("/dev/null", O_RDWR);
        if (null_fd >= 0 && null_fd != fd) {
            ::dup2(null_fd, fd);
            ::close(null_fd);
        }
    }
}

vmm::Result<vmm::SeccompFilters> seccomp_filters(const vmm::CliOptions& options) {
    if (options.no_seccomp) {
        spdlog::warn("--no-seccomp: Ember runs without seccomp filters; a guest that escapes a device gets "
                     "every system call");
        return vmm::SeccompFilters::none();
    }
    if (!options.seccomp_filter.empty())
        return vmm::SeccompFilters::from_file(options.seccomp_filter);
    return vmm::SeccompFilters::defaults();
}

}  // namespace

int main(int argc, char** argv) {
    ensure_standard_fds();
    auto parsed = vmm::parse_cli(argc, argv);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    const auto& options = std::get<vmm::CliOptions>(parsed);

    vmm::logging::init(spdlog::level::warn);
    const auto level = spdlog::level::from_str(options.log_level);
    if (level == spdlog::level::off && options.log_level != "off") {
        spdlog::error("--log-level '{}' is not one of trace, debug, info, warn, error, off",
                      options.log_level);
        return vmm::exit_status::USAGE;
    }
    vmm::logging::set_level(level);
    if (!options.snapshot_create.empty())
        return vmm::api::snapshot_command(options.api.api_sock, options.snapshot_create);
    if (!options.migrate_to.empty())
        return vmm::api::migrate_command(options.api.api_sock, options.migrate_to);
    auto filters = seccomp_filters(options);
    if (!filters.ok()) {
        spdlog::error("{}", filters.error().message());
        return vmm::exit_status::for_error(filters.error().kind());
    }
    if (options.uses_api())
        return vmm::api::run(options.config, options.api, *filters);

    auto vmm = vmm::build_vmm(options.config);
    if (!vmm.ok()) {
        spdlog::error("{}", vmm.error().message());
        return vmm::exit_status::for_error(vmm.error().kind());
    }
    return (*vmm)->run(*filters);
}
