// Ember's allow-lists, one per thread kind, compiled with libseccomp. They were drawn from
// what the threads make in the test suites (strace -f over the unit, integration, API and
// Linux suites) and from the code paths each kind runs:
//  - every thread: memory (no executable mappings), futexes, time, signals' return, exit;
//  - vcpu: KVM_RUN and the register reads of an error report on its own vCPU; the devices'
//    register accesses it dispatches (an IRQ line, an eventfd, the serial's output, the
//    TAP's offloads and queues, a vhost-user back-end's messages when the driver starts or
//    resets its rings);
//  - vmm: the event loop and everything a device back-end does on it (disk I/O in both
//    engines, TAP frames, entropy, vhost-user, vsock's UNIX sockets), and the end: terminal restore, virtiofsd's
//    stop, the API socket's unlink;
//  - api: HTTP on the accepted sockets, opening a drive or metrics file, a metrics thread,
//    writing a snapshot of the paused VM (its KVM state read, the state and memory files),
//    a live migration's sending side (a socket, the dirty log).
#include <linux/kvm.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/if_tun.h>

#include <cerrno>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "vmm/kvm_ioctl.h"
#include "vmm/seccomp.h"

namespace vmm {

namespace {

const char* const EVERY_THREAD[] = {
    "read", "write", "readv", "writev", "close", "futex", "munmap", "madvise", "brk", "mremap",
    "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "restart_syscall", "exit", "exit_group",
    "clock_gettime", "gettimeofday", "clock_nanosleep", "nanosleep", "sched_yield", "gettid", "getpid",
    "fstat", "newfstatat", "lseek", "getrandom",
    // glibc's malloc counts CPUs when a thread needs a ninth arena (a VM with many vCPUs).
    "sched_getaffinity",
};

const char* const VCPU[] = {
    "sendmsg", "recvmsg", "epoll_ctl",
};

const char* const VMM[] = {
    "epoll_wait", "epoll_pwait", "epoll_ctl", "pread64", "pwrite64", "preadv", "pwritev", "preadv2", "pwritev2",
    "fsync", "fdatasync", "fallocate", "io_uring_enter", "sendmsg", "recvmsg", "poll", "ppoll", "timerfd_settime",
    "tgkill", "kill", "wait4", "pidfd_open", "unlink", "fcntl", "flock", "dup",
    // unlink() is unlinkat where the architecture has no unlink (arm64): vsock's socket, the
    // API's, at the end. (The arm64 Linux suite's vsock case tripped this filter.)
    "unlinkat",
    // virtio-vsock's host side: its listener's connections, guest connections to PATH_P.
    "accept4", "connect", "recvfrom", "sendto", "shutdown",
};

const char* const API[] = {
    "accept4", "poll", "ppoll", "recvfrom", "sendto", "recvmsg", "sendmsg", "shutdown", "openat", "statx",
    "access", "faccessat", "faccessat2", "sysinfo",
    "fcntl", "flock", "eventfd2", "io_uring_setup", "io_uring_register", "io_uring_enter",
    "set_robust_list", "rseq", "tgkill", "pread64", "pwrite64", "preadv", "pwritev", "fsync", "fdatasync",
    "dup", "ftruncate", "rename", "unlink",  // a snapshot's files, written beside and renamed over
    "renameat", "renameat2", "unlinkat",     // the same where there is no rename or unlink (arm64)
    "socket", "connect", "setsockopt",  // PUT /migrate: the connection to the receiver
};

// ioctl requests by thread kind (compared on the low 32 bits: the request is an int).
const unsigned long VCPU_IOCTLS[] = {
    KVM_RUN, KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI,
#if defined(__x86_64__)
    KVM_GET_REGS, KVM_GET_SREGS, KVM_TRANSLATE,  // where a fatal exit happened, for its message
    KVM_KVMCLOCK_CTRL,                           // on resuming from a pause
#else
    KVM_GET_ONE_REG,  // where a fatal exit happened, for its message
#endif
    TUNSETOFFLOAD, TUNSETQUEUE,
    // virtio-pci: a guest moving a BAR moves its notify ioeventfds; an MSI-X vector delivered
    // with a new message rewrites its route.
    KVM_IOEVENTFD, kvm_detail::IOCTL_SET_GSI_ROUTING,
};
const unsigned long VMM_IOCTLS[] = {
    KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, TCGETS, TCSETS, TUNSETOFFLOAD, TUNSETQUEUE,
    kvm_detail::IOCTL_SET_GSI_ROUTING,  // an MSI-X vector delivered with a new message
};
const unsigned long API_IOCTLS[] = {
    KVM_IRQ_LINE, KVM_IRQ_LINE_STATUS, KVM_SIGNAL_MSI, BLKGETSIZE64, FIONREAD,
    kvm_detail::IOCTL_SET_GSI_ROUTING,  // a configuration interrupt on an MSI-X vector with a new message
    // PUT /snapshot/create reads the paused VM's state (it writes none) and, for a diff, its
    // dirty log.
#if defined(__x86_64__)
    KVM_GET_MP_STATE, KVM_GET_REGS, KVM_GET_SREGS, kvm_detail::IOCTL_GET_XSAVE, KVM_GET_XCRS, KVM_GET_DEBUGREGS, KVM_GET_LAPIC,
    kvm_detail::IOCTL_GET_MSRS, KVM_GET_VCPU_EVENTS, KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK,
#endif
    KVM_GET_DIRTY_LOG,
    // PUT /migrate turns KVM's dirty log on for guest RAM.
    KVM_SET_USER_MEMORY_REGION,
};

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer runtime's own needs in the ASan+UBSan build only: at exit LeakSanitizer
// stops the world from a clone()d thread that ptrace()s the others and reads /proc.
const char* const SANITIZER[] = {
    "clone", "ptrace", "wait4", "open", "openat", "getdents", "getdents64", "readlink", "prctl", "sched_getaffinity", "getppid",
    "rt_sigaction", "tgkill", "kill", "gettid", "uname", "prlimit64", "process_vm_readv", "pipe2", "sched_getparam",
};
#endif

struct FilterDeleter {
    void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Filter = std::unique_ptr<void, FilterDeleter>;

Status add(scmp_filter_ctx ctx, const char* name, uint32_t action, std::initializer_list<scmp_arg_cmp> args = {}) {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return {};  // not on this architecture (preadv2 on an old libseccomp, say)
    const std::vector<scmp_arg_cmp> cmps(args);
    if (int err = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(cmps.size()), cmps.data()); err < 0)
        return Error(ErrorKind::Internal, fmt::format("seccomp rule for {}", name), -err);
    return {};
}

template <size_t N>
Status allow_all(scmp_filter_ctx ctx, const char* const (&names)[N]) {
    for (const char* name : names)
        TRY(add(ctx, name, SCMP_ACT_ALLOW));
    return {};
}

template <size_t N>
Status allow_ioctls(scmp_filter_ctx ctx, const unsigned long (&requests)[N]) {
    for (unsigned long request : requests)
        TRY(add(ctx, "ioctl", SCMP_ACT_ALLOW, {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, request & 0xffffffffu)}));
    return {};
}

// Mappings and protections never executable: guest code cannot become host code.
Status allow_memory(scmp_filter_ctx ctx) {
    TRY(add(ctx, "mmap", SCMP_ACT_ALLOW, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
    TRY(add(ctx, "mprotect", SCMP_ACT_ALLOW, {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0)}));
    return {};
}

// Threads only (a metrics flusher started by an API worker): glibc tries clone3 first,
// whose flags sit in memory a filter cannot read, and falls back to clone on ENOSYS.
Status allow_threads(scmp_filter_ctx ctx) {
    TRY(add(ctx, "clone3", SCMP_ACT_ERRNO(ENOSYS)));
    TRY(add(ctx, "clone", SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)}));
    return {};
}

// UNIX sockets only (virtio-vsock's connections to the host's listeners).
Status allow_unix_sockets(scmp_filter_ctx ctx) {
    return add(ctx, "socket", SCMP_ACT_ALLOW, {SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffu, AF_UNIX)});
}

Status add_rules(scmp_filter_ctx ctx, ThreadKind kind) {
    TRY(allow_all(ctx, EVERY_THREAD));
    TRY(allow_memory(ctx));
#if defined(__SANITIZE_ADDRESS__)
    TRY(allow_all(ctx, SANITIZER));
#endif
    switch (kind) {
    case ThreadKind::Vcpu:
        TRY(allow_all(ctx, VCPU));
        return allow_ioctls(ctx, VCPU_IOCTLS);
    case ThreadKind::Vmm:
        TRY(allow_all(ctx, VMM));
        TRY(allow_unix_sockets(ctx));
        return allow_ioctls(ctx, VMM_IOCTLS);
    case ThreadKind::Api:
        TRY(allow_all(ctx, API));
        TRY(allow_threads(ctx));
        return allow_ioctls(ctx, API_IOCTLS);
    }
    return {};
}

Result<BpfProgram> export_bpf(scmp_filter_ctx ctx) {
    UniqueFd memfd(::memfd_create("ember-seccomp", MFD_CLOEXEC));
    if (!memfd.valid())
        return Error::from_errno("memfd for the seccomp filter");
    if (int err = seccomp_export_bpf(ctx, memfd.get()); err < 0)
        return Error(ErrorKind::Internal, "exporting the seccomp filter", -err);
    const off_t size = ::lseek(memfd.get(), 0, SEEK_CUR);
    if (size <= 0 || size % sizeof(sock_filter) != 0 || size / sizeof(sock_filter) > BPF_MAXINSNS)
        return Error(ErrorKind::Internal, fmt::format("the seccomp filter came out {} bytes long", size));
    BpfProgram program(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(memfd.get(), program.data(), static_cast<size_t>(size), 0) != size)
        return Error::from_errno("reading back the seccomp filter");
    return program;
}

}  // namespace

Result<BpfProgram> default_filter(ThreadKind kind) {
    // A trap, not a kill: Ember's SIGSYS handler names the call in one line, then the process
    // dies of SIGSYS (seccomp.cpp).
    Filter ctx(seccomp_init(SCMP_ACT_TRAP));
    if (!ctx)
        return Error(ErrorKind::HostResource, "seccomp_init failed");
    TRY(add_rules(ctx.get(), kind));
    return export_bpf(ctx.get());
}

}  // namespace vmm
