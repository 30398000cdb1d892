// ember: parse the command line, build the VM, run it, exit with how it ended.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "vmm/cli.h"
#include "vmm/lifecycle.h"
#include "vmm/vm_builder.h"

int main(int argc, char** argv) {
    auto parsed = vmm::parse_cli(argc, argv);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    const auto& options = std::get<vmm::CliOptions>(parsed);

    auto logger = spdlog::stderr_color_mt("ember");
    logger->set_pattern("ember: %^%l%$: %v");
    spdlog::set_default_logger(logger);
    const auto level = spdlog::level::from_str(options.log_level);
    if (level == spdlog::level::off && options.log_level != "off") {
        spdlog::error("--log-level '{}' is not one of trace, debug, info, warn, error, off",
                      options.log_level);
        return vmm::exit_status::USAGE;
    }
    spdlog::set_level(level);

    auto vmm = vmm::build_vmm(options.config);
    if (!vmm.ok()) {
        spdlog::error("{}", vmm.error().message());
        return vmm::exit_status::USAGE;
    }
    return (*vmm)->run();
}
