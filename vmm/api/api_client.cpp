#include "vmm/api/api_client.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "base/unique_fd.h"
#include "base/unix_address.h"
#include "vmm/key_values.h"
#include "vmm/lifecycle.h"

namespace vmm::api {

namespace {

constexpr size_t MAX_REPLY = 1u << 20;

Status send_all(int fd, std::string_view bytes, const std::string& what) {
    while (!bytes.empty()) {
        const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return Error::from_errno(what);
        bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return {};
}

int fail(const std::string& message, int status = exit_status::VMM_ERROR) {
    spdlog::error("{}", message);
    return status;
}

}  // namespace

Result<ClientReply> api_request(const std::string& socket_path, std::string_view method, std::string_view path,
                                std::string_view body) {
    const std::string what = fmt::format("the API socket '{}'", socket_path);
    const auto address = unix_address(socket_path);
    if (!address)
        return Error(fmt::format("{}: the path must be 1 to {} bytes", what, MAX_UNIX_PATH));
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::connect(fd.get(), as_sockaddr(*address), sizeof *address) != 0)
        return Error::from_errno(what);
    const std::string request =
        fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\n"
                    "Connection: close\r\n\r\n{}",
                    method, path, body.size(), body);
    TRY(send_all(fd.get(), request, what));
    std::string reply;
    char buffer[4096];
    for (;;) {
        const ssize_t got = ::read(fd.get(), buffer, sizeof buffer);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return Error::from_errno(what);
        if (got == 0)
            break;
        reply.append(buffer, static_cast<size_t>(got));
        if (reply.size() > MAX_REPLY)
            return Error(what + ": the reply is too long");
        // A reply without a body ends at its header; one with a body once it is all there.
        const size_t end = reply.find("\r\n\r\n");
        if (end == std::string::npos)
            continue;
        const size_t length_at = reply.find("Content-Length: ");
        size_t length = 0;
        if (length_at < end)
            std::from_chars(reply.data() + length_at + 16, reply.data() + end, length);
        if (reply.size() >= end + 4 + length)
            break;
    }
    ClientReply out;
    if (reply.size() < 12 || !reply.starts_with("HTTP/1.1 ") ||
        std::from_chars(reply.data() + 9, reply.data() + 12, out.status).ec != std::errc() || out.status < 100)
        return Error(what + ": the reply is not HTTP");
    const size_t end = reply.find("\r\n\r\n");
    out.body = end == std::string::npos ? std::string() : reply.substr(end + 4);
    return out;
}

std::string fault_of(const ClientReply& reply) {
    const auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (json.is_object() && json.contains("fault_message") && json["fault_message"].is_string())
        return json["fault_message"].get<std::string>();
    return fmt::format("HTTP status {}", reply.status);
}

int snapshot_command(const std::string& socket_path, std::string_view spec) {
    const std::string where = fmt::format("--snapshot-create '{}'", spec);
    auto pairs = split_key_values(spec, where);
    if (!pairs.ok())
        return fail(pairs.error().message(), exit_status::USAGE);
    std::string snapshot, memory, type = "Full";
    for (const auto& [key, value] : *pairs) {
        if (key == "snapshot" && !value.empty())
            snapshot = value;
        else if (key == "memory" && !value.empty())
            memory = value;
        else if (key == "type" && (value == "full" || value == "diff"))
            type = value == "full" ? "Full" : "Diff";
        else
            return fail(fmt::format("{}: bad '{}={}' (snapshot=PATH, memory=PATH, type=full|diff)", where, key, value),
                        exit_status::USAGE);
    }
    if (snapshot.empty() || memory.empty())
        return fail(where + ": snapshot=PATH and memory=PATH are required", exit_status::USAGE);
    auto info = api_request(socket_path, "GET", "/");
    if (!info.ok())
        return fail(info.error().message(), exit_status::USAGE);
    const auto state = nlohmann::json::parse(info->body, nullptr, false);
    const bool running = state.is_object() && state.value("state", "") == "Running";
    if (running) {
        auto paused = api_request(socket_path, "PATCH", "/vm", R"({"state": "Paused"})");
        if (!paused.ok() || paused->status != 204)
            return fail("pausing the VM: " + (paused.ok() ? fault_of(*paused) : paused.error().message()));
    }
    const std::string body = nlohmann::json{{"snapshot_type", type}, {"snapshot_path", snapshot}, {"mem_file_path", memory}}.dump();
    auto created = api_request(socket_path, "PUT", "/snapshot/create", body);
    const bool ok = created.ok() && created->status == 204;
    if (running) {
        auto resumed = api_request(socket_path, "PATCH", "/vm", R"({"state": "Resumed"})");
        if (!resumed.ok() || resumed->status != 204)
            return fail("resuming the VM: " + (resumed.ok() ? fault_of(*resumed) : resumed.error().message()));
    }
    if (!ok)
        return fail("snapshot: " + (created.ok() ? fault_of(*created) : created.error().message()));
    return 0;
}

int migrate_command(const std::string& socket_path, const std::string& url) {
    const std::string body = nlohmann::json{{"destination_url", url}}.dump();
    auto reply = api_request(socket_path, "PUT", "/migrate", body);
    if (!reply.ok())
        return fail(reply.error().message(), exit_status::USAGE);
    if (reply->status != 204)
        return fail(fault_of(*reply));
    return 0;
}

}  // namespace vmm::api
