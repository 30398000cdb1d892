#include "base/memory_file.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <utility>

#include <fmt/format.h>

namespace vmm {

namespace {

constexpr long HUGETLBFS_BLOCK = 2l << 20;

std::string parent_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// An unnamed file in `dir`: O_TMPFILE, or where the file system has none a named one removed
// at once.
Result<UniqueFd> unnamed_file_in(const std::string& dir, const std::string& what) {
    UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    if (fd.valid() || (errno != EOPNOTSUPP && errno != EISDIR))
        return fd.valid() ? Result<UniqueFd>(std::move(fd)) : Error::from_errno(what);
    std::string name = dir + "/.ember-ram-XXXXXX";
    fd.reset(::mkostemp(name.data(), O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(what);
    ::unlink(name.c_str());
    return fd;
}

// Huge pages come from hugetlbfs files only, and a hugetlbfs file maps only in its page size.
Status check_file_system(int fd, const std::string& what, bool hugetlb) {
    struct statfs fs {};
    if (::fstatfs(fd, &fs) != 0)
        return Error::from_errno(what);
    const bool on_hugetlbfs = fs.f_type == HUGETLBFS_MAGIC;
    if (hugetlb && !on_hugetlbfs)
        return Error(what + ": hugepages=2M needs a file on a hugetlbfs mount (such as /dev/hugepages)");
    if (!hugetlb && on_hugetlbfs)
        return Error(what + ": the file is on hugetlbfs, so hugepages=2M is needed");
    if (on_hugetlbfs && fs.f_bsize != HUGETLBFS_BLOCK)
        return Error(fmt::format("{}: the hugetlbfs mount has {} KiB pages, Ember uses 2 MiB", what, fs.f_bsize >> 10));
    return {};
}

}  // namespace

MemoryFile::MemoryFile(MemoryFile&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_fd(std::move(other.m_fd)),
      m_unnamed(std::exchange(other.m_unnamed, false)),
      m_unlink_on_drop(std::exchange(other.m_unlink_on_drop, false)) {}

MemoryFile::~MemoryFile() {
    if (m_unlink_on_drop)
        ::unlink(m_path.c_str());
}

Result<MemoryFile> MemoryFile::open(const std::string& path, uint64_t size, bool hugetlb) {
    const std::string what = fmt::format("memory file '{}'", path);
    MemoryFile file(path, UniqueFd{});
    bool needs_size = true;
    struct stat st {};
    const bool found = ::stat(path.c_str(), &st) == 0;
    const int stat_error = errno;
    if (found && S_ISDIR(st.st_mode)) {
        file.m_fd = TRY(unnamed_file_in(path, what));
    } else if (!found && stat_error == ENOENT && ::lstat(path.c_str(), &st) != 0) {
        file.m_fd.reset(::open(parent_of(path).c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
        file.m_unnamed = file.m_fd.valid();
        if (!file.m_fd.valid() && (errno == EOPNOTSUPP || errno == EISDIR)) {
            file.m_fd.reset(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
            file.m_unlink_on_drop = file.m_fd.valid();
        }
        if (!file.m_fd.valid())
            return Error::from_errno(what);
    } else {
        file.m_fd.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
        if (!file.m_fd.valid())
            return Error::from_errno(what);
        if (::fstat(file.m_fd.get(), &st) != 0)
            return Error::from_errno(what);
        if (!S_ISREG(st.st_mode))
            return Error(what + " is not a regular file or a directory");
        if (st.st_size != 0 && static_cast<uint64_t>(st.st_size) != size)
            return Error(fmt::format("{} is {} bytes, the guest's memory {} (give an empty file or one of that size)",
                                     what, st.st_size, size));
        needs_size = st.st_size == 0;
    }
    if (::flock(file.m_fd.get(), LOCK_EX | LOCK_NB) != 0)
        return errno == EWOULDBLOCK ? Error(ErrorKind::Busy, what + " is in use by another process") : Error::from_errno(what);
    TRY(check_file_system(file.m_fd.get(), what, hugetlb));
    if (needs_size && ::ftruncate(file.m_fd.get(), static_cast<off_t>(size)) != 0)
        return Error::from_errno(fmt::format("{}: sizing it to {} MiB", what, size >> 20));
    return file;
}

Result<UniqueFd> MemoryFile::share() const {
    UniqueFd fd(::fcntl(m_fd.get(), F_DUPFD_CLOEXEC, 0));
    if (!fd.valid())
        return Error::from_errno(fmt::format("memory file '{}': dup", m_path));
    return fd;
}

Status MemoryFile::publish() {
    m_unlink_on_drop = false;
    if (!m_unnamed)
        return {};
    m_unnamed = false;
    const std::string proc = fmt::format("/proc/self/fd/{}", m_fd.get());
    if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, m_path.c_str(), AT_SYMLINK_FOLLOW) == 0)
        return {};
    // Without /proc (a jail): AT_EMPTY_PATH, which needs CAP_DAC_READ_SEARCH.
    if (errno == ENOENT && ::linkat(m_fd.get(), "", AT_FDCWD, m_path.c_str(), AT_EMPTY_PATH) == 0)
        return {};
    return Error::from_errno(fmt::format("memory file '{}': giving it its name", m_path));
}

}  // namespace vmm
