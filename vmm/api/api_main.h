// Ember driven as Firecracker is: --config-file boots from a JSON document, --api-sock serves
// the API on a UNIX socket (and waits for InstanceStart unless a config file started the VM).
#pragma once

#include <optional>
#include <string_view>

#include "vmm/api/snapshot_requests.h"

#include <string>

#include "vmm/seccomp.h"
#include "vmm/vm_config.h"

namespace vmm::api {

struct ApiOptions {
    std::string api_sock;     // empty: no API
    std::string config_file;  // empty: configured through the API only
    std::string id = "anonymous-instance";
    // --restore: the snapshot loaded at start, as PUT /snapshot/load would.
    std::optional<SnapshotLoadRequest> restore;
    // --migrate-from: the URL (migration.h) where this Ember waits for a migrating VM.
    std::string migrate_from;
};

// --restore's "snapshot=PATH,memory=PATH[,resume=on|off]" (resume: on).
Result<SnapshotLoadRequest> parse_restore(std::string_view text);

// `base`: the VM the command line describes, which the document and requests then change.
// Returns Ember's exit status. `filters`: the API threads' at once, the VM's threads' at boot.
int run(const VmConfig& base, const ApiOptions& options, const SeccompFilters& filters);

}  // namespace vmm::api
