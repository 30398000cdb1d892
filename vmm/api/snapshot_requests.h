// The bodies of PUT /snapshot/create and PUT /snapshot/load, as Firecracker's API defines
// them (SnapshotCreateParams, SnapshotLoadParams), parsed and checked; what Ember does not do
// yet is refused by name rather than ignored.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "vmm/api/json_fields.h"

namespace vmm::api {

struct SnapshotCreateRequest {
    std::string snapshot_path;
    std::string mem_file_path;
    bool diff = false;  // snapshot_type "Diff": only the pages written since the last snapshot
};

struct SnapshotLoadRequest {
    std::string snapshot_path;
    std::string mem_file_path;  // mem_backend's backend_path (File, or Uffd: the handler's socket), or the older mem_file_path
    bool uffd = false;          // backend_type Uffd
    bool resume_vm = false;
    bool track_dirty_pages = false;  // track_dirty_pages, or the older enable_diff_snapshots
    // network_overrides: (iface_id, host_dev_name), a NIC put on another TAP.
    std::vector<std::pair<std::string, std::string>> network_overrides;
};

Result<SnapshotCreateRequest> parse_snapshot_create(const Json& body);
Result<SnapshotLoadRequest> parse_snapshot_load(const Json& body);

}  // namespace vmm::api
