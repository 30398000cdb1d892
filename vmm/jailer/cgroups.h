// The instance's cgroup: one leaf <hierarchy>/<parent cgroup>/<id> in each cgroup v1 hierarchy
// that holds a controller named by --cgroup, or in the cgroup v2 hierarchy; the settings
// written there before Ember joins it, and the leaf removed after Ember has ended.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "vmm/jailer/jail_options.h"

namespace vmm::jailer {

struct CgroupMount {
    std::string path;
    bool v2 = false;
    std::vector<std::string> controllers;  // v1: the mount's controller options
};

// The cgroup and cgroup2 file systems in /proc/self/mounts' text.
std::vector<CgroupMount> parse_cgroup_mounts(std::string_view mounts);

class InstanceCgroups {
public:
    static Result<InstanceCgroups> plan(const JailOptions& options, const std::vector<CgroupMount>& mounts);

    // A leaf that exists already: the path, else empty (the id is free).
    std::string existing_leaf() const;
    // Parents, leaves, v2 controllers, then each value; what it made is removed on failure.
    Status create();
    // Moves the calling process into every leaf.
    Status join() const;
    // The leaves and the parents create() made (those still empty).
    void remove();
    // How often the kernel's OOM killer acted in the leaf's memory controller.
    uint64_t oom_kills() const;
    const std::vector<std::string>& leaves() const { return m_leaves; }

private:
    struct Hierarchy {
        std::string root;
        bool v2 = false;
        bool cpuset = false;
        std::vector<std::string> controllers;  // v2: those to enable down to the leaf
        std::vector<CgroupSetting> settings;
    };

    Status create_hierarchy(const Hierarchy& hierarchy);
    Status make_dir(const Hierarchy& hierarchy, const std::string& path, bool leaf);

    std::string m_relative;  // <parent cgroup>/<id>
    std::vector<Hierarchy> m_hierarchies;
    std::vector<std::string> m_leaves;
    std::vector<std::string> m_created;  // directories made, in order
};

}  // namespace vmm::jailer
