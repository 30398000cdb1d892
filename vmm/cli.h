// Command-line parsing (CLI11) into a VmConfig. The only place parse exceptions are caught.
#pragma once

#include <optional>
#include <variant>
#include <string>

#include "vmm/api/api_main.h"
#include "vmm/vm_config.h"

namespace vmm {

struct CliOptions {
    VmConfig config;
    std::string log_level = "warn";
    api::ApiOptions api;
    bool no_seccomp = false;
    std::string seccomp_filter;  // Firecracker's compiled filter file; empty: Ember's own
    // One-shot commands to the Ember serving --api-sock (api_client.h), instead of a VM.
    std::string snapshot_create;  // --snapshot-create snapshot=PATH,memory=PATH[,type=full|diff]
    std::string migrate_to;       // --migrate-to URL
    bool is_command() const { return !snapshot_create.empty() || !migrate_to.empty(); }
    bool uses_api() const { return !api.api_sock.empty() || !api.config_file.empty() || api.restore || !api.migrate_from.empty(); }
};

// Returns the options, or the process exit status when parsing ends the program
// (0 after --help/--version, exit_status::USAGE after a message on stderr).
std::variant<CliOptions, int> parse_cli(int argc, char** argv);

}  // namespace vmm
