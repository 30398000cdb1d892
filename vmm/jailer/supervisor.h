// The jailer stays as Ember's parent outside the jail: it starts the child (in a new PID
// namespace when asked), learns whether the child's set-up reached exec, passes the signals
// that stop a VMM on to it, and reports how it ended, so that the jail and cgroup can be
// taken down after it.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "base/result.h"

namespace vmm::jailer {

class Supervisor {
public:
    // Forks (after unshare(CLONE_NEWPID) when new_pid_ns) and runs `child` there, which
    // ends in exec or returns the error that stopped it; `forked` is told the child's pid at
    // once. Returns once the child has exec'd (its pid) or with that error, the child reaped.
    static Result<pid_t> start(bool new_pid_ns, const std::function<Status()>& child,
                               const std::function<void(pid_t)>& forked);
    // Forwards SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 until the child ends; its
    // wait status.
    static int wait(pid_t child);
    // The jailer's exit status for a wait status: the child's, or 128 + its signal.
    static int exit_status(int wait_status);
};

}  // namespace vmm::jailer
