#include "vmm/api/snapshot_requests.h"

#include <fmt/format.h>

namespace vmm::api {

namespace {

Result<std::string> required_text(const JsonFields& fields, std::string_view key) {
    auto path = TRY(fields.string(key));
    if (!path || path->empty())
        return fields.missing(key);
    return *path;
}

}  // namespace

Result<SnapshotCreateRequest> parse_snapshot_create(const Json& body) {
    auto f = TRY(JsonFields::of(body, "snapshot-create", {"snapshot_path", "mem_file_path", "snapshot_type", "version"}));
    SnapshotCreateRequest request;
    request.snapshot_path = TRY(required_text(f, "snapshot_path"));
    request.mem_file_path = TRY(required_text(f, "mem_file_path"));
    auto type = TRY(f.one_of("snapshot_type", {"Full", "Diff"}));
    request.diff = type == "Diff";
    TRY(f.string("version"));  // Firecracker's older field: the format version is Ember's own
    return request;
}

Result<SnapshotLoadRequest> parse_snapshot_load(const Json& body) {
    auto f = TRY(JsonFields::of(body, "snapshot-load", {"snapshot_path", "mem_file_path", "mem_backend",
                                                        "enable_diff_snapshots", "track_dirty_pages", "resume_vm",
                                                        "network_overrides"}));
    SnapshotLoadRequest request;
    request.snapshot_path = TRY(required_text(f, "snapshot_path"));
    auto backend = TRY(f.object_field("mem_backend"));
    if (backend && f.has("mem_file_path"))
        return Error("snapshot-load: give mem_backend or mem_file_path, not both");
    if (backend) {
        auto b = TRY(JsonFields::of(*backend, "snapshot-load: mem_backend", {"backend_type", "backend_path"}));
        auto type = TRY(b.one_of("backend_type", {"File", "Uffd"}));
        if (!type)
            return b.missing("backend_type");
        request.uffd = *type == "Uffd";
        request.mem_file_path = TRY(required_text(b, "backend_path"));
    } else {
        request.mem_file_path = TRY(required_text(f, "mem_file_path"));
    }
    for (const char* key : {"enable_diff_snapshots", "track_dirty_pages"})
        request.track_dirty_pages |= TRY(f.boolean(key)).value_or(false);
    request.resume_vm = TRY(f.boolean("resume_vm")).value_or(false);
    if (f.has("network_overrides")) {
        const Json& overrides = body["network_overrides"];
        if (!overrides.is_array())
            return Error("snapshot-load: field 'network_overrides' must be an array");
        for (const Json& item : overrides) {
            auto o = TRY(JsonFields::of(item, "snapshot-load: network_overrides", {"iface_id", "host_dev_name"}));
            request.network_overrides.emplace_back(TRY(required_text(o, "iface_id")),
                                                   TRY(required_text(o, "host_dev_name")));
        }
    }
    return request;
}

}  // namespace vmm::api
