// ember-jailer's command line (Firecracker's jailer flags): plain data, checked once by
// parse_jailer_cli before anything is created.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/result.h"

namespace vmm::jailer {

struct CgroupSetting {
    std::string file;  // "cpu.max", "memory.limit_in_bytes"
    std::string value;
    std::string controller() const { return file.substr(0, file.find('.')); }
};

struct ResourceLimit {
    int resource;  // RLIMIT_FSIZE, RLIMIT_NOFILE
    rlim_t value;
};

struct JailOptions {
    std::string id;
    std::string exec_file;  // absolute
    uid_t uid = 0;
    gid_t gid = 0;
    std::string chroot_base = "/srv/jailer";
    std::string netns;  // absolute, or empty: the jailer's own network namespace
    bool daemonize = false;
    bool new_pid_ns = false;
    int cgroup_version = 1;
    std::vector<CgroupSetting> cgroups;
    std::string parent_cgroup;  // relative; the exec file's name when not given
    std::vector<ResourceLimit> limits;
    std::vector<std::string> exec_args;  // after "--", passed on as they are

    // The last component of exec_file: the jail's folder and the binary's name inside it.
    std::string exec_name() const;
    // <chroot_base>/<exec name>/<id> and its root/, the jail.
    std::string instance_dir() const;
    std::string chroot_dir() const;
};

// The checks that need no file system: id, flags' shapes, paths absolute, values in range.
Status check_options(const JailOptions& options);

// The options, or the exit status when the jailer should stop (help, version, a usage error,
// already printed).
std::variant<JailOptions, int> parse_jailer_cli(int argc, char** argv);

}  // namespace vmm::jailer
