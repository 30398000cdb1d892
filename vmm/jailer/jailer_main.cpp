// ember-jailer: Firecracker's jailer for Ember. Checks everything, builds the jail and the
// cgroup, starts Ember in them as an unprivileged user, waits for it and takes both down.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "vmm/jailer/cgroups.h"
#include "vmm/jailer/jail_options.h"
#include "vmm/jailer/jail_root.h"
#include "vmm/jailer/privileges.h"
#include "vmm/jailer/supervisor.h"
#include "vmm/jailer/sys_files.h"
#include "vmm/lifecycle.h"

namespace {

using namespace vmm;
using namespace vmm::jailer;

int fail(const Error& error) {
    fmt::print(stderr, "ember-jailer: error: {}\n", error.message());
    return exit_status::for_error(error.kind());
}

// --daemonize: a new session, standard I/O on /dev/null.
Status daemonize() {
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null.valid())
        return Error::from_errno("/dev/null");
    if (::setsid() < 0)
        return Error::from_errno("--daemonize: setsid (the jailer must not lead its process group)");
    for (int fd = 0; fd <= 2; ++fd)
        if (::dup2(null.get(), fd) < 0)
            return Error::from_errno("--daemonize: dup2");
    return {};
}

// In the child, in this order: the cgroup (so Ember's memory and CPU count there from its
// first page), rlimits, the network namespace, the jail, the user; then exec.
Status jailed_child(const JailOptions& options, const InstanceCgroups& cgroups, const JailRoot& root, int netns) {
    TRY(cgroups.join());
    TRY(apply_limits(options.limits));
    TRY(join_netns(netns));
    TRY(root.enter());
    TRY(drop_privileges(options.uid, options.gid));
    std::vector<std::string> args{options.exec_name(), "--id=" + options.id};
    args.insert(args.end(), options.exec_args.begin(), options.exec_args.end());
    std::vector<char*> argv;
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    char* empty_env[] = {nullptr};
    ::execve(root.binary_inside().c_str(), argv.data(), empty_env);
    return Error::from_errno("exec " + root.binary_inside());
}

int report_end(int wait_status, uint64_t oom_kills, const JailOptions& options) {
    if (WIFSIGNALED(wait_status)) {
        const int sig = WTERMSIG(wait_status);
        if (sig == SIGKILL && oom_kills > 0)
            fmt::print(stderr, "ember-jailer: error: {} (id {}) was killed by the kernel's OOM killer: its cgroup's "
                       "memory limit was reached\n", options.exec_name(), options.id);
        else
            fmt::print(stderr, "ember-jailer: {} (id {}) was killed by signal {} ({})\n", options.exec_name(),
                       options.id, sig, ::strsignal(sig));
    }
    return Supervisor::exit_status(wait_status);
}

int run(const JailOptions& options) {
    auto netns = open_netns(options.netns);
    if (!netns.ok())
        return fail(netns.error());
    UniqueFd netns_fd(*netns);
    auto mounts = read_text("/proc/self/mounts");
    if (!mounts.ok())
        return fail(mounts.error());
    auto cgroups = InstanceCgroups::plan(options, parse_cgroup_mounts(*mounts));
    if (!cgroups.ok())
        return fail(cgroups.error());
    auto root = JailRoot::plan(options);
    if (!root.ok())
        return fail(root.error());
    for (const auto& existing : {root->existing(), cgroups->existing_leaf()})
        if (!existing.empty())
            return fail(Error(ErrorKind::Busy, fmt::format("--id {} is in use: {} exists", options.id, existing)));

    if (auto built = root->build(); !built.ok())
        return fail(built.error());
    auto take_down = [&] {
        cgroups->remove();
        root->remove();
    };
    if (auto created = cgroups->create(); !created.ok()) {
        take_down();
        return fail(created.error());
    }
    if (options.daemonize) {
        if (auto detached = daemonize(); !detached.ok()) {
            take_down();
            return fail(detached.error());
        }
    }
    // The pid file is there before Ember runs: whoever drives the jailer may read it at once.
    auto child = Supervisor::start(
        options.new_pid_ns, [&] { return jailed_child(options, *cgroups, *root, netns_fd.get()); },
        [&](pid_t pid) {
            if (auto written = root->write_pid(pid); !written.ok())
                fmt::print(stderr, "ember-jailer: warning: {}\n", written.error().message());
        });
    if (!child.ok()) {
        take_down();
        return fail(child.error());
    }
    netns_fd.reset();
    const int status = Supervisor::wait(*child);
    const uint64_t oom_kills = cgroups->oom_kills();
    take_down();
    return report_end(status, oom_kills, options);
}

}  // namespace

int main(int argc, char** argv) {
    // Nothing the caller left open reaches the jail.
    ::close_range(3, ~0U, 0);
    auto parsed = parse_jailer_cli(argc, argv);
    if (auto* code = std::get_if<int>(&parsed))
        return *code;
    ::clearenv();
    return run(std::get<JailOptions>(parsed));
}
