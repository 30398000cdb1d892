#include "vmm/virtiofsd.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "base/unix_address.h"

namespace vmm {

namespace {

constexpr const char* DEBIAN_VIRTIOFSD[] = {"/usr/libexec/virtiofsd", "/usr/lib/qemu/virtiofsd"};

// A listening socket bound in a fresh private directory, and a connection to it (queued in
// its backlog); the name and the directory are removed at once.
Status listening_pair(UniqueFd& listener, UniqueFd& connection) {
    char dir[] = "/tmp/ember-virtiofsd.XXXXXX";
    if (!::mkdtemp(dir))
        return Error::from_errno("mkdtemp for the virtiofsd socket");
    const std::string path = fmt::format("{}/socket", dir);
    const sockaddr_un address = *unix_address(path);  // a short name under /tmp
    listener.reset(::socket(AF_UNIX, SOCK_STREAM, 0));  // inherited by virtiofsd: no CLOEXEC
    connection.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const sockaddr* sa = as_sockaddr(address);
    const bool ok = listener.valid() && connection.valid() && ::bind(listener.get(), sa, sizeof address) == 0 &&
                    ::listen(listener.get(), 1) == 0 && ::connect(connection.get(), sa, sizeof address) == 0;
    const int saved = errno;
    ::unlink(path.c_str());
    ::rmdir(dir);
    errno = saved;
    if (!ok)
        return Error::from_errno("creating the virtiofsd socket");
    return {};
}

// In the child, before exec: only async-signal-safe calls. A read-only view of `dir` in a
// mount namespace of its own.
bool make_readonly(const char* dir) {
    return ::unshare(CLONE_NEWNS) == 0 && ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0 &&
           ::mount(dir, dir, nullptr, MS_BIND | MS_REC, nullptr) == 0 &&
           ::mount(nullptr, dir, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0;
}

}  // namespace

Result<std::string> find_virtiofsd() {
    if (const char* given = ::getenv("EMBER_VIRTIOFSD"); given && *given)
        return std::string(given);
    for (const char* path : DEBIAN_VIRTIOFSD)
        if (::access(path, X_OK) == 0)
            return std::string(path);
    return Error(ErrorKind::NotFound,
                 "--fs dir=: no virtiofsd (install Debian's qemu-system-common or virtiofsd, or set EMBER_VIRTIOFSD)");
}

Result<Virtiofsd> Virtiofsd::start(const std::string& dir, bool readonly, UniqueFd& connection) {
    struct stat st{};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        return Error(ErrorKind::NotFound, fmt::format("--fs dir={}: not a directory", dir));
    const std::string binary = TRY(find_virtiofsd());
    UniqueFd listener;
    TRY(listening_pair(listener, connection));
    const std::string fd_arg = fmt::format("--fd={}", listener.get());
    const std::string source = fmt::format("source={}", dir);
    std::vector<const char*> argv = {binary.c_str(), fd_arg.c_str(), "-o", source.c_str(), "-o", "log_level=err",
                                     nullptr};
    // The child reports a failure before exec (its step and errno) on a close-on-exec pipe:
    // nothing read means virtiofsd runs.
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        return Error::from_errno("pipe for virtiofsd");
    UniqueFd report_read(report[0]), report_write(report[1]);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0)
        return Error::from_errno("fork for virtiofsd");
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        int failure[2] = {0, 0};
        if (::getppid() != parent)
            ::_exit(127);
        if (readonly && !make_readonly(dir.c_str()))
            failure[0] = 1;
        else
            ::execv(argv[0], const_cast<char* const*>(argv.data()));
        failure[1] = errno;
        [[maybe_unused]] ssize_t n = ::write(report_write.get(), failure, sizeof failure);
        ::_exit(127);
    }
    Virtiofsd daemon(pid);
    report_write.reset();
    int failure[2] = {0, 0};
    if (::read(report_read.get(), failure, sizeof failure) == sizeof failure) {
        errno = failure[1];
        return Error::from_errno(failure[0] ? fmt::format("--fs dir={},readonly=on: a read-only view of it", dir)
                                            : fmt::format("--fs dir={}: running {}", dir, binary));
    }
    return daemon;
}

Virtiofsd::Virtiofsd(Virtiofsd&& other) noexcept : m_pid(std::exchange(other.m_pid, -1)) {}

Virtiofsd::~Virtiofsd() {
    if (m_pid <= 0)
        return;
    // virtiofsd ends within milliseconds of SIGTERM; one that does not is killed after 2 s.
    UniqueFd exited(static_cast<int>(::syscall(SYS_pidfd_open, m_pid, 0)));
    ::kill(m_pid, SIGTERM);
    pollfd wait{exited.get(), POLLIN, 0};
    if (!exited.valid() || ::poll(&wait, 1, 2000) != 1)
        ::kill(m_pid, SIGKILL);
    ::waitpid(m_pid, nullptr, 0);
}

}  // namespace vmm
