#include "vmm/seccomp.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "boot/image_file.h"
#include "vmm/lifecycle.h"

namespace vmm {

namespace {

// seccompiler's own limit on a filter file (Firecracker's DESERIALIZATION_BYTES_LIMIT); no
// real file comes near it: the kernel takes at most BPF_MAXINSNS instructions per program.
constexpr size_t MAX_FILE = 100'000;
constexpr size_t MAX_NAME = 64;

// Reads bincode's fixed-width little-endian integers, refusing to run past the end.
class Reader {
public:
    explicit Reader(std::span<const uint8_t> bytes) : m_bytes(bytes) {}
    bool done() const { return m_at == m_bytes.size(); }
    template <typename T>
    bool take(T& out) {
        if (m_bytes.size() - m_at < sizeof(T))
            return false;
        uint64_t value = 0;
        for (size_t i = 0; i < sizeof(T); ++i)
            value |= uint64_t{m_bytes[m_at + i]} << (8 * i);
        m_at += sizeof(T);
        out = static_cast<T>(value);
        return true;
    }
    bool take_bytes(size_t n, std::span<const uint8_t>& out) {
        if (m_bytes.size() - m_at < n)
            return false;
        out = m_bytes.subspan(m_at, n);
        m_at += n;
        return true;
    }

private:
    std::span<const uint8_t> m_bytes;
    size_t m_at = 0;
};

// The one size rule, for the file before it is read and for bytes handed in.
Status check_size(uint64_t size, const std::string& what) {
    if (size > MAX_FILE)
        return Error(fmt::format("{}: larger than {} bytes; not a seccompiler-bin filter file", what, MAX_FILE));
    return {};
}

int kind_index(std::string_view name) {
    for (ThreadKind kind : ALL_THREAD_KINDS)
        if (name == thread_kind_name(kind))
            return static_cast<int>(kind);
    return -1;
}

// The kind whose filter this thread installed; a thread started by a filtered one (the API's
// metrics flusher) runs under its creator's filter without one of its own.
thread_local const char* t_kind = "spawned";

// Async-signal-safe decimal or hex digits of `value` at `out`; returns the end.
char* put_number(char* out, uint64_t value, unsigned base) {
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[value % base];
        value /= base;
    } while (value != 0);
    while (n > 0)
        *out++ = digits[--n];
    return out;
}

char* put_text(char* out, const char* text) {
    while (*text)
        *out++ = *text++;
    return out;
}

// A call the filter traps (Ember's filters trap; Firecracker's usually do): one line that
// names it, then the same call again. SIGSYS is blocked inside its handler, so the kernel
// now delivers it with the default action: the process dies of SIGSYS.
void on_forbidden_call(int, siginfo_t* info, [[maybe_unused]] void* context) {
    char line[256];
    char* at = put_text(line, t_kind[0] == 'a' ? "ember: error: seccomp: an " : "ember: error: seccomp: a ");
    at = put_text(at, t_kind);
    at = put_text(at, " thread made system call ");
    at = put_number(at, static_cast<uint64_t>(info->si_syscall), 10);
#if defined(__x86_64__)
    const auto* regs = static_cast<ucontext_t*>(context)->uc_mcontext.gregs;
    if (info->si_syscall == SYS_ioctl) {
        at = put_text(at, " (ioctl 0x");
        at = put_number(at, static_cast<uint64_t>(regs[REG_RSI]) & 0xffffffffu, 16);
        at = put_text(at, ")");
    }
    if (info->si_syscall == SYS_openat) {
        // The path names the library behind it (which no code of Ember's opens there).
        at = put_text(at, " (openat \"");
        const char* path = reinterpret_cast<const char*>(regs[REG_RSI]);
        for (int i = 0; path && path[i] && i < 96; ++i)
            *at++ = path[i];
        at = put_text(at, "\")");
    }
#endif
    at = put_text(at, ", which its filter forbids; stopping\n");
    [[maybe_unused]] ssize_t n = ::write(2, line, static_cast<size_t>(at - line));
#if defined(__x86_64__)
    ::syscall(info->si_syscall, regs[REG_RDI], regs[REG_RSI], regs[REG_RDX], regs[REG_R10], regs[REG_R8], regs[REG_R9]);
#endif
    ::_exit(exit_status::VMM_ERROR);  // not reached where the call traps again
}

int install(const BpfProgram& program) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return errno;
    if (program.empty())
        return 0;
    sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0 ? errno : 0;
}

}  // namespace

const char* thread_kind_name(ThreadKind kind) {
    switch (kind) {
    case ThreadKind::Vmm: return "vmm";
    case ThreadKind::Vcpu: return "vcpu";
    case ThreadKind::Api: return "api";
    }
    return "?";
}

SeccompFilters SeccompFilters::none() { return {}; }

Result<SeccompFilters> SeccompFilters::defaults() {
    SeccompFilters filters;
    filters.m_enabled = true;
    for (ThreadKind kind : ALL_THREAD_KINDS)
        filters.m_programs[static_cast<size_t>(kind)] = TRY(default_filter(kind));
    return filters;
}

Result<SeccompFilters> SeccompFilters::parse(std::span<const uint8_t> bytes, const std::string& what) {
    TRY(check_size(bytes.size(), what));
    auto bad = [&](const std::string& why) { return Error(fmt::format("{}: {}", what, why)); };
    Reader in(bytes);
    uint64_t count = 0;
    if (!in.take(count) || count > 16)
        return bad("not a seccompiler-bin filter file (a map of thread categories to BPF programs)");
    SeccompFilters filters;
    filters.m_enabled = true;
    std::array<bool, 3> seen{};
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t name_size = 0, length = 0;
        std::span<const uint8_t> name_bytes;
        if (!in.take(name_size) || name_size > MAX_NAME || !in.take_bytes(name_size, name_bytes))
            return bad("truncated or malformed thread category name");
        const std::string name(name_bytes.begin(), name_bytes.end());
        const int index = kind_index(name);
        if (index < 0)
            return bad(fmt::format("unknown thread category '{}' (Ember's are vmm, api, vcpu)", name));
        if (seen[index])
            return bad(fmt::format("thread category '{}' given twice", name));
        seen[index] = true;
        if (!in.take(length) || length > BPF_MAXINSNS)
            return bad(fmt::format("the '{}' program is malformed or longer than {} instructions", name, BPF_MAXINSNS));
        BpfProgram& program = filters.m_programs[index];
        program.resize(length);
        for (sock_filter& insn : program) {
            if (!in.take(insn.code) || !in.take(insn.jt) || !in.take(insn.jf) || !in.take(insn.k))
                return bad(fmt::format("the '{}' program is truncated", name));
        }
    }
    if (!in.done())
        return bad("bytes after the last program; not a seccompiler-bin filter file");
    for (ThreadKind kind : ALL_THREAD_KINDS)
        if (!seen[static_cast<size_t>(kind)])
            return bad(fmt::format("no filter for thread category '{}' (an empty one leaves it unfiltered)",
                                   thread_kind_name(kind)));
    TRY(filters.check(what));
    return filters;
}

Result<SeccompFilters> SeccompFilters::from_file(const std::string& path) {
    const std::string what = fmt::format("seccomp filter file '{}'", path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(what);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return Error::from_errno(what);
    if (!S_ISREG(st.st_mode))
        return Error(fmt::format("{}: not a regular file", what));
    TRY(check_size(static_cast<uint64_t>(st.st_size), what));
    const auto bytes = TRY(boot::read_file_bytes(fd.get(), static_cast<size_t>(st.st_size), what));
    return parse(bytes, what);
}

Status SeccompFilters::check(const std::string& what) const {
    for (ThreadKind kind : ALL_THREAD_KINDS) {
        const BpfProgram& program = m_programs[static_cast<size_t>(kind)];
        if (program.empty())
            continue;
        // One child per program: once a filter is in, the next seccomp() may be forbidden.
        const pid_t pid = ::fork();
        if (pid < 0)
            return Error::from_errno("fork to check the seccomp filters");
        if (pid == 0)
            ::_exit(install(program));
        int status = 0;
        if (::waitpid(pid, &status, 0) < 0)
            return Error::from_errno("waitpid for the seccomp filter check");
        if (WIFSIGNALED(status))
            return Error(fmt::format("{}: the '{}' program forbids exit_group, which every thread makes", what,
                                     thread_kind_name(kind)));
        if (WEXITSTATUS(status) != 0) {
            const int err = WEXITSTATUS(status);
            return Error(fmt::format("{}: the kernel refuses the '{}' program: {}", what, thread_kind_name(kind),
                                     std::strerror(err)),
                         err);
        }
    }
    return {};
}

Status SeccompFilters::apply(ThreadKind kind) const {
    if (!m_enabled)
        return {};
    t_kind = thread_kind_name(kind);
    // What libc loads from files on first use, loaded while it still may: the time zone
    // (gmtime_r, behind the CMOS clock, reads /etc/localtime the first time).
    ::tzset();
    struct sigaction action {};
    action.sa_sigaction = on_forbidden_call;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    if (::sigaction(SIGSYS, &action, nullptr) < 0)
        return Error::from_errno("sigaction for SIGSYS");
    if (int err = install(m_programs[static_cast<size_t>(kind)]); err != 0)
        return Error::from_errno(fmt::format("installing the seccomp filter of a {} thread", thread_kind_name(kind)),
                                 err);
    seccomp_test_point(kind);
    return {};
}

// Weak: the test build's definition replaces it.
[[gnu::weak]] void seccomp_test_point(ThreadKind) {}

}  // namespace vmm
