#include "vmm/jailer/jail_root.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "vmm/jailer/sys_files.h"

namespace vmm::jailer {

namespace {

// The device nodes a jailed Ember opens (major, minor as on every Linux host).
struct Node {
    const char* path;
    unsigned major, minor;
};
constexpr Node NODES[] = {{"/dev/kvm", 10, 232}, {"/dev/net/tun", 10, 200}, {"/dev/urandom", 1, 9}};

bool read_exact(int fd, void* data, size_t size, off_t offset) {
    return ::pread(fd, data, size, offset) == static_cast<ssize_t>(size);
}

// The nearest folder of `path` that exists (the chroot base may not yet).
std::string existing_ancestor(std::string path) {
    struct stat st;
    while (path.size() > 1 && ::stat(path.c_str(), &st) != 0)
        path = path.substr(0, std::max<size_t>(path.rfind('/'), 1));
    return path;
}

}  // namespace

Status check_exec_file(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno("--exec-file " + path);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return Error(ErrorKind::NotFound, fmt::format("--exec-file {} is not a regular file", path));
    if ((st.st_mode & 0111) == 0)
        return Error(fmt::format("--exec-file {} is not executable", path));
    Elf64_Ehdr header;
    if (!read_exact(fd.get(), &header, sizeof header, 0) || std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 ||
        header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_phentsize != sizeof(Elf64_Phdr))
        return Error(fmt::format("--exec-file {} is not a 64-bit ELF executable", path));
    for (uint16_t i = 0; i < header.e_phnum; ++i) {
        Elf64_Phdr phdr;
        if (!read_exact(fd.get(), &phdr, sizeof phdr, static_cast<off_t>(header.e_phoff + i * sizeof phdr)))
            return Error(fmt::format("--exec-file {}: its program headers are truncated", path));
        if (phdr.p_type == PT_INTERP)
            return Error(fmt::format("--exec-file {} is dynamically linked: the jail holds the binary alone, with no "
                                     "loader or libraries; give a static build",
                                     path));
    }
    return {};
}

Result<JailRoot> JailRoot::plan(const JailOptions& options) {
    TRY(check_exec_file(options.exec_file));
    const std::string base = existing_ancestor(options.chroot_base);
    struct statvfs fs;
    if (::statvfs(base.c_str(), &fs) != 0)
        return Error::from_errno("--chroot-base-dir " + options.chroot_base);
    if (fs.f_flag & ST_NODEV)
        return Error(fmt::format("--chroot-base-dir {} is on a file system mounted nodev: the jail's /dev/kvm "
                                 "could not be opened there",
                                 options.chroot_base));
    JailRoot root;
    root.m_exec_file = options.exec_file;
    root.m_root = options.chroot_dir();
    root.m_binary_inside = "/" + options.exec_name();
    root.m_binary = root.m_root + root.m_binary_inside;
    root.m_pid_file = root.m_binary + ".pid";
    root.m_uid = options.uid;
    root.m_gid = options.gid;
    return root;
}

std::string JailRoot::existing() const {
    struct stat st;
    return ::lstat(m_binary.c_str(), &st) == 0 ? m_binary : std::string();
}

Status JailRoot::make_dir(const std::string& path) {
    if (::mkdir(path.c_str(), 0755) == 0) {
        m_folders.push_back(path);
        return {};
    }
    struct stat st;
    if (errno == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
        return {};
    return Error::from_errno("creating " + path);
}

Status JailRoot::make_node(const std::string& path, unsigned major, unsigned minor) {
    if (::mknod(path.c_str(), S_IFCHR | 0600, makedev(major, minor)) != 0)
        return Error::from_errno("creating the device node " + path);
    m_files.push_back(path);
    if (::chown(path.c_str(), m_uid, m_gid) != 0)
        return Error::from_errno("chown " + path);
    return {};
}

Status JailRoot::copy_binary() {
    UniqueFd in(::open(m_exec_file.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in.valid())
        return Error::from_errno(m_exec_file);
    UniqueFd out(::open(m_binary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755));
    if (!out.valid())
        return Error::from_errno("copying the exec file to " + m_binary);
    m_files.push_back(m_binary);
    for (;;) {
        const ssize_t n = ::sendfile(out.get(), in.get(), nullptr, 1 << 30);
        if (n < 0)
            return Error::from_errno("copying the exec file to " + m_binary);
        if (n == 0)
            return {};
    }
}

Status JailRoot::build() {
    auto built = [&]() -> Status {
        // Every folder from the base down, so that remove() knows which it made.
        for (size_t slash = m_root.find('/', 1);; slash = m_root.find('/', slash + 1)) {
            TRY(make_dir(m_root.substr(0, slash)));
            if (slash == std::string::npos)
                break;
        }
        TRY(copy_binary());
        TRY(make_dir(m_root + "/dev"));
        TRY(make_dir(m_root + "/dev/net"));
        for (const Node& node : NODES)
            TRY(make_node(m_root + node.path, node.major, node.minor));
        // Ember creates its API socket and files in the jail's root.
        if (::chown(m_root.c_str(), m_uid, m_gid) != 0)
            return Error::from_errno("chown " + m_root);
        return {};
    }();
    if (!built.ok())
        remove();
    return built;
}

Status JailRoot::write_pid(pid_t pid) {
    TRY(create_text(m_pid_file, fmt::format("{}\n", pid)));
    m_files.push_back(m_pid_file);
    return {};
}

Status JailRoot::enter() const {
    if (::unshare(CLONE_NEWNS) != 0)
        return Error::from_errno("unshare(CLONE_NEWNS)");
    // Nothing mounted in here may reach the host's mounts, nor theirs this one.
    if (::mount(nullptr, "/", nullptr, MS_PRIVATE | MS_REC, nullptr) != 0)
        return Error::from_errno("making / private");
    // pivot_root needs the new root to be a mount point.
    if (::mount(m_root.c_str(), m_root.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return Error::from_errno("bind-mounting " + m_root);
    if (::chdir(m_root.c_str()) != 0)
        return Error::from_errno("chdir " + m_root);
    if (::mkdir("old_root", 0700) != 0)
        return Error::from_errno("creating " + m_root + "/old_root");
    if (::syscall(SYS_pivot_root, ".", "old_root") != 0)
        return Error::from_errno("pivot_root into " + m_root);
    if (::umount2("old_root", MNT_DETACH) != 0)
        return Error::from_errno("detaching the old root");
    if (::rmdir("old_root") != 0)
        return Error::from_errno("removing /old_root");
    if (::chroot(".") != 0 || ::chdir("/") != 0)
        return Error::from_errno("chroot into " + m_root);
    return {};
}

void JailRoot::remove() {
    for (auto it = m_files.rbegin(); it != m_files.rend(); ++it)
        ::unlink(it->c_str());
    m_files.clear();
    ::rmdir((m_root + "/old_root").c_str());  // left by a child that failed between its steps
    for (auto it = m_folders.rbegin(); it != m_folders.rend(); ++it)
        ::rmdir(it->c_str());
    m_folders.clear();
}

}  // namespace vmm::jailer
