#include "vmm/jailer/supervisor.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/unique_fd.h"

namespace vmm::jailer {

namespace {

constexpr int FORWARDED[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

sigset_t supervised_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    for (int sig : FORWARDED)
        sigaddset(&set, sig);
    return set;
}

// The child's report on the pipe: its error kind as one byte, then the message.
[[noreturn]] void child_failed(int fd, const Error& error) {
    const char kind = static_cast<char>(error.kind());
    (void)!::write(fd, &kind, 1);
    (void)!::write(fd, error.message().data(), error.message().size());
    ::_exit(127);
}

}  // namespace

Result<pid_t> Supervisor::start(bool new_pid_ns, const std::function<Status()>& child,
                                const std::function<void(pid_t)>& forked) {
    // Blocked from before the fork, so that none is lost; the child unblocks them.
    const sigset_t signals = supervised_signals();
    sigset_t previous;
    ::sigprocmask(SIG_BLOCK, &signals, &previous);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return Error::from_errno("pipe2");
    UniqueFd report(fds[0]), report_writer(fds[1]);
    if (new_pid_ns && ::unshare(CLONE_NEWPID) != 0)
        return Error::from_errno("unshare(CLONE_NEWPID)");
    const pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork");
    if (pid == 0) {
        report.reset();
        ::sigprocmask(SIG_SETMASK, &previous, nullptr);
        auto result = child();
        child_failed(report_writer.get(), result.ok() ? Error(ErrorKind::Internal, "the child returned") : result.error());
    }
    report_writer.reset();
    forked(pid);
    std::string message;
    char buffer[512];
    for (ssize_t n; (n = ::read(report.get(), buffer, sizeof buffer)) != 0;) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        message.append(buffer, static_cast<size_t>(n));
    }
    if (message.empty())
        return pid;  // the pipe closed on exec
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return Error(static_cast<ErrorKind>(message[0]), message.substr(1));
}

int Supervisor::wait(pid_t child) {
    const sigset_t signals = supervised_signals();
    for (;;) {
        siginfo_t info;
        const int sig = ::sigwaitinfo(&signals, &info);
        if (sig < 0)
            continue;
        if (sig != SIGCHLD) {
            ::kill(child, sig);
            continue;
        }
        int status = 0;
        if (::waitpid(child, &status, WNOHANG) == child)
            return status;
    }
}

int Supervisor::exit_status(int wait_status) {
    if (WIFEXITED(wait_status))
        return WEXITSTATUS(wait_status);
    return 128 + WTERMSIG(wait_status);
}

}  // namespace vmm::jailer
