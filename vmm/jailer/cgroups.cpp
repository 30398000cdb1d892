#include "vmm/jailer/cgroups.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "vmm/jailer/sys_files.h"

namespace vmm::jailer {

namespace {

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find(separator, start), text.size());
        if (end > start)
            parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

bool contains(const std::vector<std::string>& list, std::string_view item) {
    return std::find(list.begin(), list.end(), item) != list.end();
}

// "oom_kill N" in memory.events (v2) or memory.oom_control (v1).
uint64_t oom_kill_count(const std::string& text) {
    std::istringstream lines(text);
    std::string key;
    uint64_t value = 0;
    while (lines >> key >> value)
        if (key == "oom_kill")
            return value;
    return 0;
}

}  // namespace

std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mounts) {
    std::vector<CgroupMount> found;
    for (const auto& line : split(mounts, '\n')) {
        std::istringstream fields(line);
        std::string device, path, type, options;
        if (!(fields >> device >> path >> type >> options))
            continue;
        if (type == "cgroup2")
            found.push_back({path, true, {}});
        else if (type == "cgroup")
            found.push_back({path, false, split(options, ',')});
    }
    return found;
}

Result<InstanceCgroups> InstanceCgroups::plan(const JailOptions& options, const std::vector<CgroupMount>& mounts) {
    InstanceCgroups cgroups;
    cgroups.m_relative = options.parent_cgroup + "/" + options.id;
    for (const auto& setting : options.cgroups) {
        const std::string controller = setting.controller();
        const bool v2 = options.cgroup_version == 2;
        auto mount = std::find_if(mounts.begin(), mounts.end(), [&](const CgroupMount& m) {
            return v2 ? m.v2 : !m.v2 && contains(m.controllers, controller);
        });
        if (mount == mounts.end())
            return Error(ErrorKind::NotFound,
                         v2 ? std::string("--cgroup-version 2: no cgroup2 file system is mounted")
                            : fmt::format("--cgroup {}: no cgroup v1 hierarchy holds the '{}' controller",
                                          setting.file, controller));
        auto hierarchy = std::find_if(cgroups.m_hierarchies.begin(), cgroups.m_hierarchies.end(),
                                      [&](const Hierarchy& h) { return h.root == mount->path; });
        if (hierarchy == cgroups.m_hierarchies.end()) {
            cgroups.m_hierarchies.push_back({mount->path, v2, contains(mount->controllers, "cpuset"), {}, {}});
            hierarchy = cgroups.m_hierarchies.end() - 1;
        }
        if (v2 && controller != "cgroup" && !contains(hierarchy->controllers, controller)) {
            auto available = TRY(read_text(mount->path + "/cgroup.controllers"));
            if (!contains(split(available.substr(0, available.find('\n')), ' '), controller))
                return Error(ErrorKind::NotFound, fmt::format("--cgroup {}: the cgroup v2 hierarchy at {} offers "
                                                              "no '{}' controller", setting.file, mount->path, controller));
            hierarchy->controllers.push_back(controller);
        }
        hierarchy->settings.push_back(setting);
    }
    for (const auto& hierarchy : cgroups.m_hierarchies)
        cgroups.m_leaves.push_back(hierarchy.root + "/" + cgroups.m_relative);
    return cgroups;
}

std::string InstanceCgroups::existing_leaf() const {
    for (const auto& leaf : m_leaves) {
        struct stat st;
        if (::lstat(leaf.c_str(), &st) == 0)
            return leaf;
    }
    return {};
}

Status InstanceCgroups::create() {
    for (const auto& hierarchy : m_hierarchies) {
        if (auto made = create_hierarchy(hierarchy); !made.ok()) {
            remove();
            return made;
        }
    }
    return {};
}

Status InstanceCgroups::create_hierarchy(const Hierarchy& hierarchy) {
    const auto parts = split(m_relative, '/');
    std::string path = hierarchy.root;
    for (size_t i = 0; i < parts.size(); ++i) {
        // v2: a controller is usable in a child once its parent enables it for its subtree.
        for (const auto& controller : hierarchy.controllers) {
            auto enabled = TRY(read_text(path + "/cgroup.subtree_control"));
            if (!contains(split(enabled.substr(0, enabled.find('\n')), ' '), controller))
                TRY_CTX(write_text(path + "/cgroup.subtree_control", "+" + controller),
                        fmt::format("enabling the '{}' controller", controller));
        }
        path += "/" + parts[i];
        TRY(make_dir(hierarchy, path, i + 1 == parts.size()));
    }
    for (const auto& setting : hierarchy.settings) {
        const std::string file = path + "/" + setting.file;
        if (auto written = write_text(file, setting.value); !written.ok()) {
            if (written.error().sys_errno() == ENOENT)
                return Error(fmt::format("--cgroup {}={}: the cgroup has no file '{}'", setting.file, setting.value,
                                         setting.file));
            return Error(fmt::format("--cgroup {}={}: the kernel refused it ({})", setting.file, setting.value,
                                     std::strerror(written.error().sys_errno())));
        }
    }
    return {};
}

Status InstanceCgroups::make_dir(const Hierarchy& hierarchy, const std::string& path, bool leaf) {
    if (::mkdir(path.c_str(), 0755) != 0) {
        if (errno == EEXIST && !leaf)
            return {};
        if (errno == EEXIST)
            return Error(ErrorKind::Busy, fmt::format("cgroup {} exists: the id is in use", path));
        return Error::from_errno("creating cgroup " + path);
    }
    m_created.push_back(path);
    // v1 cpuset: a new cgroup starts with no CPUs and no memory nodes; it takes its parent's.
    if (hierarchy.cpuset) {
        const std::string parent = path.substr(0, path.rfind('/'));
        for (const char* file : {"/cpuset.cpus", "/cpuset.mems"}) {
            auto value = TRY(read_text(parent + file));
            TRY(write_text(path + file, value));
        }
    }
    return {};
}

Status InstanceCgroups::join() const {
    for (const auto& leaf : m_leaves)
        TRY_CTX(write_text(leaf + "/cgroup.procs", "0"), "joining the instance's cgroup");
    return {};
}

void InstanceCgroups::remove() {
    // Reaped, the instance's tasks leave its leaf at once; a v2 leaf can stay busy a moment
    // while the kernel finishes taking the dead tasks out. A parent still holding other
    // instances' leaves stays (busy, at once).
    for (auto it = m_created.rbegin(); it != m_created.rend(); ++it) {
        const bool leaf = contains(m_leaves, *it);
        for (int tries = 0; ::rmdir(it->c_str()) != 0 && errno == EBUSY && leaf && tries < 100; ++tries)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    m_created.clear();
}

uint64_t InstanceCgroups::oom_kills() const {
    for (size_t i = 0; i < m_hierarchies.size(); ++i) {
        const char* file = m_hierarchies[i].v2 ? "/memory.events" : "/memory.oom_control";
        if (auto text = read_text(m_leaves[i] + file); text.ok())
            if (uint64_t kills = oom_kill_count(*text))
                return kills;
    }
    return 0;
}

}  // namespace vmm::jailer
