#include "vmm/api/snapshot_requests.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

namespace vmm::api {
namespace {

Json parse(const char* text) { return parse_json(text).value(); }

std::string error_of(Result<SnapshotLoadRequest> request) {
    return request.ok() ? "ok" : request.error().message();
}

TEST(ApiSnapshotRequests, CreateTakesFirecrackersFields) {
    auto request = parse_snapshot_create(
        parse(R"({"snapshot_type": "Full", "snapshot_path": "/s", "mem_file_path": "/m", "version": "1.0.0"})"))
                       .value();
    EXPECT_EQ(request.snapshot_path, "/s");
    EXPECT_EQ(request.mem_file_path, "/m");
    EXPECT_TRUE(parse_snapshot_create(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m"})")).ok());
    EXPECT_FALSE(parse_snapshot_create(parse(R"({"snapshot_path": "/s"})")).ok());
    EXPECT_FALSE(request.diff);
    auto diff = parse_snapshot_create(parse(R"({"snapshot_type": "Diff", "snapshot_path": "/s", "mem_file_path": "/m"})"));
    ASSERT_TRUE(diff.ok());
    EXPECT_TRUE(diff->diff);
    EXPECT_FALSE(parse_snapshot_create(parse(R"({"snapshot_type": "Half", "snapshot_path": "/s", "mem_file_path": "/m"})")).ok());
}

TEST(ApiSnapshotRequests, LoadTracksDirtyPagesUnderEitherName) {
    for (const char* key : {"track_dirty_pages", "enable_diff_snapshots"}) {
        auto request = parse_snapshot_load(parse(
            fmt::format(R"({{"snapshot_path": "/s", "mem_file_path": "/m", "{}": true}})", key).c_str()));
        ASSERT_TRUE(request.ok()) << key;
        EXPECT_TRUE(request->track_dirty_pages) << key;
    }
    EXPECT_FALSE(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m"})"))->track_dirty_pages);
}

TEST(ApiSnapshotRequests, LoadTakesTheMemoryBackendOrTheOlderMemFilePath) {
    auto request = parse_snapshot_load(parse(
        R"({"snapshot_path": "/s", "mem_backend": {"backend_type": "File", "backend_path": "/m"}, "resume_vm": true})"));
    ASSERT_TRUE(request.ok());
    EXPECT_EQ(request->mem_file_path, "/m");
    EXPECT_TRUE(request->resume_vm);
    auto older = parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m"})")).value();
    EXPECT_EQ(older.mem_file_path, "/m");
    EXPECT_FALSE(older.resume_vm);
    EXPECT_EQ(error_of(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "network_overrides": []})"))),
              "snapshot-load: missing field 'mem_file_path'");
}

TEST(ApiSnapshotRequests, UffdNamesTheHandlersSocket) {
    auto request = parse_snapshot_load(
        parse(R"({"snapshot_path": "/s", "mem_backend": {"backend_type": "Uffd", "backend_path": "/run/pf.sock"}})"));
    ASSERT_TRUE(request.ok());
    EXPECT_TRUE(request->uffd);
    EXPECT_EQ(request->mem_file_path, "/run/pf.sock");
    EXPECT_FALSE(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m"})"))->uffd);
    EXPECT_FALSE(parse_snapshot_load(
                     parse(R"({"snapshot_path": "/s", "mem_backend": {"backend_type": "Tape", "backend_path": "/t"}})"))
                     .ok());
}

TEST(ApiSnapshotRequests, NetworkOverridesNameTheNicAndItsNewTap) {
    auto request = parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m",
        "network_overrides": [{"iface_id": "eth0", "host_dev_name": "tap7"}, {"iface_id": "eth1", "host_dev_name": "tap8"}]})"))
                       .value();
    ASSERT_EQ(request.network_overrides.size(), 2u);
    EXPECT_EQ(request.network_overrides[0], std::make_pair(std::string("eth0"), std::string("tap7")));
    EXPECT_EQ(request.network_overrides[1].second, "tap8");
}

TEST(ApiSnapshotRequests, LoadRefusesWhatItCannotDoByName) {
    EXPECT_NE(error_of(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m",
                  "network_overrides": [{"iface_id": "eth0"}]})")))
                  .find("host_dev_name"),
              std::string::npos);
    EXPECT_NE(error_of(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m",
                  "mem_backend": {"backend_type": "File", "backend_path": "/m"}})")))
                  .find("not both"),
              std::string::npos);
    EXPECT_NE(error_of(parse_snapshot_load(parse(R"({"snapshot_path": "/s", "mem_file_path": "/m", "x": 1})")))
                  .find("unknown field 'x'"),
              std::string::npos);
}

}  // namespace
}  // namespace vmm::api
