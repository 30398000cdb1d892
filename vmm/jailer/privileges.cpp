#include "vmm/jailer/privileges.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include <fmt/format.h>

namespace vmm::jailer {

Status apply_limits(const std::vector<ResourceLimit>& limits) {
    bool no_file = false;
    for (const auto& limit : limits) {
        const struct rlimit value{limit.value, limit.value};
        if (::setrlimit(limit.resource, &value) != 0)
            return Error::from_errno(fmt::format("setrlimit({})", limit.resource == RLIMIT_FSIZE ? "fsize" : "no-file"));
        no_file = no_file || limit.resource == RLIMIT_NOFILE;
    }
    if (!no_file) {
        const struct rlimit value{DEFAULT_NO_FILE, DEFAULT_NO_FILE};
        if (::setrlimit(RLIMIT_NOFILE, &value) != 0)
            return Error::from_errno("setrlimit(no-file)");
    }
    return {};
}

Result<int> open_netns(const std::string& path) {
    if (path.empty())
        return -1;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("--netns " + path);
    if (::ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET) {
        ::close(fd);
        return Error(fmt::format("--netns {} is not a network namespace (as /var/run/netns/NAME)", path));
    }
    return fd;
}

Status join_netns(int fd) {
    if (fd >= 0 && ::setns(fd, CLONE_NEWNET) != 0)
        return Error::from_errno("joining the network namespace (setns)");
    return {};
}

Status drop_privileges(uid_t uid, gid_t gid) {
    // The bounding set first (that needs CAP_SETPCAP, still held): no exec can gain a capability.
    for (int cap = 0; ::prctl(PR_CAPBSET_READ, cap) >= 0; ++cap)
        if (::prctl(PR_CAPBSET_DROP, cap) != 0)
            return Error::from_errno(fmt::format("dropping capability {} from the bounding set", cap));
    if (::setgroups(0, nullptr) != 0)
        return Error::from_errno("setgroups");
    if (::setresgid(gid, gid, gid) != 0)
        return Error::from_errno(fmt::format("setresgid({})", gid));
    // Leaving uid 0 clears the permitted, effective and ambient sets.
    if (::setresuid(uid, uid, uid) != 0)
        return Error::from_errno(fmt::format("setresuid({})", uid));
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capset, &header, data) != 0)
        return Error::from_errno("capset");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return Error::from_errno("PR_SET_NO_NEW_PRIVS");
    // Ended with the jailer: a jailed Ember outliving its supervisor would hold its cgroup.
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return Error::from_errno("PR_SET_PDEATHSIG");
    return {};
}

}  // namespace vmm::jailer
