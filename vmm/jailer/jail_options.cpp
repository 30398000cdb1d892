#include "vmm/jailer/jail_options.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "vmm/cli_parse.h"
#include "vmm/lifecycle.h"

namespace vmm::jailer {

namespace {

constexpr size_t MAX_ID = 64;      // Firecracker's limit
constexpr size_t MAX_VALUE = 1024;  // an io.max line for a few devices fits

bool all_of(std::string_view text, std::string_view allowed_punctuation) {
    return std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               allowed_punctuation.find(c) != std::string_view::npos;
    });
}

Result<uint64_t> parse_number(std::string_view text, std::string_view what) {
    uint64_t value = 0;
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || err != std::errc() || end != text.data() + text.size())
        return Error(fmt::format("{} '{}' is not a number", what, text));
    return value;
}

Result<uint32_t> parse_id_number(std::string_view text, const char* flag) {
    auto value = TRY(parse_number(text, flag));
    if (value == 0)
        return Error(fmt::format("{} 0 is refused: the jail exists to drop root; give an unprivileged id", flag));
    if (value >= UINT32_MAX)
        return Error(fmt::format("{} {} is out of range", flag, text));
    return static_cast<uint32_t>(value);
}

Result<CgroupSetting> parse_cgroup(std::string_view text) {
    const auto eq = text.find('=');
    if (eq == std::string_view::npos)
        return Error(fmt::format("--cgroup '{}' is not FILE=VALUE", text));
    CgroupSetting setting{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
    const auto dot = setting.file.find('.');
    if (dot == 0 || dot == std::string::npos || dot + 1 == setting.file.size() ||
        !all_of(setting.file, "._") || setting.file.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string::npos)
        return Error(fmt::format("--cgroup '{}': '{}' is not a cgroup file name (controller.name, as cpu.max)",
                                 text, setting.file));
    if (setting.value.empty() || setting.value.size() > MAX_VALUE ||
        std::any_of(setting.value.begin(), setting.value.end(), [](char c) { return c < 0x20 || c == 0x7f; }))
        return Error(fmt::format("--cgroup '{}': the value is empty, too long or holds control characters", text));
    return setting;
}

Result<ResourceLimit> parse_limit(std::string_view text) {
    const auto eq = text.find('=');
    const auto name = text.substr(0, eq);
    int resource = -1;
    if (name == "fsize")
        resource = RLIMIT_FSIZE;
    else if (name == "no-file")
        resource = RLIMIT_NOFILE;
    if (eq == std::string_view::npos || resource < 0)
        return Error(fmt::format("--resource-limit '{}' is not fsize=N or no-file=N", text));
    auto value = TRY(parse_number(text.substr(eq + 1), "--resource-limit value"));
    return ResourceLimit{resource, static_cast<rlim_t>(value)};
}

Status check_relative_path(const std::string& path, const char* flag) {
    if (path.empty() || path.front() == '/' || path.back() == '/')
        return Error(fmt::format("{} '{}' must be a relative path (inside each controller's hierarchy)", flag, path));
    size_t start = 0;
    while (start <= path.size()) {
        const auto end = std::min(path.find('/', start), path.size());
        const std::string_view part(path.data() + start, end - start);
        if (part.empty() || part == "." || part == ".." || !all_of(part, "._-"))
            return Error(fmt::format("{} '{}': component '{}' is not allowed", flag, path, part));
        start = end + 1;
    }
    return {};
}

int usage_error(const std::string& message) {
    fmt::print(stderr, "ember-jailer: error: {}\n", message);
    return exit_status::USAGE;
}

}  // namespace

std::string JailOptions::exec_name() const { return exec_file.substr(exec_file.rfind('/') + 1); }
std::string JailOptions::instance_dir() const { return fmt::format("{}/{}/{}", chroot_base, exec_name(), id); }
std::string JailOptions::chroot_dir() const { return instance_dir() + "/root"; }

Status check_options(const JailOptions& options) {
    if (options.id.empty() || options.id.size() > MAX_ID || !all_of(options.id, "-"))
        return Error(fmt::format("--id '{}' must be 1 to {} letters, digits and hyphens", options.id, MAX_ID));
    for (const auto& [flag, path] : {std::pair{"--exec-file", &options.exec_file},
                                     std::pair{"--chroot-base-dir", &options.chroot_base},
                                     std::pair{"--netns", &options.netns}}) {
        if (path->empty() && std::string_view(flag) == "--netns")
            continue;
        if (path->empty() || path->front() != '/')
            return Error(fmt::format("{} '{}' must be an absolute path", flag, *path));
        if (path->find("/../") != std::string::npos || path->ends_with("/.."))
            return Error(fmt::format("{} '{}' must not hold '..'", flag, *path));
    }
    if (options.exec_name().empty())
        return Error(fmt::format("--exec-file '{}' names no file", options.exec_file));
    if (options.cgroup_version != 1 && options.cgroup_version != 2)
        return Error(fmt::format("--cgroup-version {} is not 1 or 2", options.cgroup_version));
    return check_relative_path(options.parent_cgroup, "--parent-cgroup");
}

std::variant<JailOptions, int> parse_jailer_cli(int argc, char** argv) {
    JailOptions options;
    // Everything after the first "--" is Ember's, untouched.
    int own = argc;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) {
            own = i;
            break;
        }
    }
    for (int i = own + 1; i < argc; ++i)
        options.exec_args.emplace_back(argv[i]);

    CLI::App app{"ember-jailer: runs Ember in a chroot, its own namespaces and cgroup, as an unprivileged user",
                 "ember-jailer"};
    app.footer("Usage: ember-jailer --id ID --exec-file /usr/bin/ember --uid UID --gid GID [options] -- "
               "[Ember's arguments, paths as seen inside the jail]");
    std::string uid, gid;
    std::vector<std::string> cgroups, limits;
    app.add_option("--id", options.id, "Instance id: letters, digits, hyphens (at most 64)")->required();
    app.add_option("--exec-file", options.exec_file, "The (static) Ember binary, copied into the jail")->required();
    app.add_option("--uid", uid, "User id Ember runs as (not 0)")->required();
    app.add_option("--gid", gid, "Group id Ember runs as (not 0)")->required();
    app.add_option("--chroot-base-dir", options.chroot_base, "Where jails are built")->capture_default_str();
    app.add_option("--netns", options.netns, "Network namespace to join (as /var/run/netns/NAME)");
    app.add_flag("--daemonize", options.daemonize, "setsid() and standard I/O to /dev/null");
    app.add_flag("--new-pid-ns", options.new_pid_ns, "Ember as PID 1 of a new PID namespace");
    app.add_option("--cgroup-version", options.cgroup_version, "1 or 2")->capture_default_str();
    app.add_option("--cgroup", cgroups, "FILE=VALUE written in the instance's cgroup, repeatable (cpu.max=20000 100000)")
        ->expected(1)
        ->take_all();
    app.add_option("--parent-cgroup", options.parent_cgroup,
                   "Path of the instance's cgroup's parent in each hierarchy (default: the exec file's name)");
    app.add_option("--resource-limit", limits, "fsize=N or no-file=N, repeatable (no-file is 2048 by default)")
        ->expected(1)
        ->take_all();
    app.set_version_flag("--version", "ember-jailer 0.1.0");
    if (auto status = parse_or_exit_status(app, own, argv, "ember-jailer"))
        return *status;
    auto uid_value = parse_id_number(uid, "--uid");
    if (!uid_value.ok())
        return usage_error(uid_value.error().message());
    auto gid_value = parse_id_number(gid, "--gid");
    if (!gid_value.ok())
        return usage_error(gid_value.error().message());
    options.uid = *uid_value;
    options.gid = *gid_value;
    for (const auto& text : cgroups) {
        auto setting = parse_cgroup(text);
        if (!setting.ok())
            return usage_error(setting.error().message());
        options.cgroups.push_back(std::move(setting).value());
    }
    for (const auto& text : limits) {
        auto limit = parse_limit(text);
        if (!limit.ok())
            return usage_error(limit.error().message());
        options.limits.push_back(*limit);
    }
    if (options.parent_cgroup.empty())
        options.parent_cgroup = options.exec_name();
    if (auto checked = check_options(options); !checked.ok())
        return usage_error(checked.error().message());
    return options;
}

}  // namespace vmm::jailer
