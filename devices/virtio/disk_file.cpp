#include "devices/virtio/disk_file.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include <fmt/format.h>

namespace vmm::virtio {

namespace {

// Runs a positional vectored transfer to completion, advancing past partial transfers.
template <typename Op>
Status transfer(std::span<const iovec> iov_in, uint64_t offset, Op op, const char* what) {
    // Fast path: one call moves everything (the usual case); nothing is copied or allocated.
    // Otherwise the loop below redoes the transfer; positional I/O makes that idempotent.
    uint64_t total = 0;
    for (const iovec& v : iov_in)
        total += v.iov_len;
    if (iov_in.size() <= IOV_MAX) {
        ssize_t n = op(iov_in.data(), static_cast<int>(iov_in.size()), static_cast<off_t>(offset));
        if (n >= 0 && static_cast<uint64_t>(n) == total)
            return {};
    }
    std::vector<iovec> iov(iov_in.begin(), iov_in.end());
    size_t first = 0;
    while (first < iov.size()) {
        const int count = static_cast<int>(std::min<size_t>(iov.size() - first, IOV_MAX));
        ssize_t n = op(iov.data() + first, count, static_cast<off_t>(offset));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(what);
        if (n == 0)
            return Error(ErrorKind::HostResource, fmt::format("{}: unexpected end of disk at {}", what, offset));
        offset += static_cast<uint64_t>(n);
        for (size_t left = static_cast<size_t>(n); left && first < iov.size();) {
            const size_t step = std::min(left, iov[first].iov_len);
            iov[first].iov_base = static_cast<uint8_t*>(iov[first].iov_base) + step;
            iov[first].iov_len -= step;
            left -= step;
            if (iov[first].iov_len == 0)
                ++first;
        }
        while (first < iov.size() && iov[first].iov_len == 0)
            ++first;
    }
    return {};
}

// A disk's size in bytes: a regular file's or a block device's, a whole number of sectors
// unless `any_size`.
Result<uint64_t> disk_size(int fd, const std::string& name, bool any_size = false) {
    struct stat st {};
    if (::fstat(fd, &st) < 0)
        return Error::from_errno(name);
    uint64_t size = 0;
    if (S_ISREG(st.st_mode)) {
        size = static_cast<uint64_t>(st.st_size);
    } else if (S_ISBLK(st.st_mode)) {
        if (::ioctl(fd, BLKGETSIZE64, &size) < 0)
            return Error::from_errno(name + ": BLKGETSIZE64");
    } else {
        return Error(name + ": not a regular file or block device");
    }
    if (size % DiskFile::SECTOR && !any_size)
        return Error(fmt::format("{}: size {} is not a multiple of {} bytes", name, size, DiskFile::SECTOR));
    return size;
}

}  // namespace

Result<bool> DiskFile::is(const std::string& path) const {
    struct stat named {}, open {};
    if (::stat(path.c_str(), &named) < 0)
        return Error::from_errno(fmt::format("disk '{}'", path));
    if (::fstat(m_fd.get(), &open) < 0)
        return Error::from_errno("disk");
    return named.st_dev == open.st_dev && named.st_ino == open.st_ino;
}

Status DiskFile::reread_size() {
    m_size = TRY(disk_size(m_fd.get(), "disk"));  // a raw disk's: image formats keep their size
    return {};
}

Result<DiskFile> DiskFile::open(const std::string& path, bool readonly, bool any_size) {
    const std::string name = fmt::format("disk '{}'", path);
    UniqueFd fd(::open(path.c_str(), (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(name);
    const uint64_t size = TRY(disk_size(fd.get(), name, any_size));
    if (::flock(fd.get(), (readonly ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK)
            return Error(ErrorKind::Busy, name + ": locked by another process (is another VM using it?)");
        return Error::from_errno(name + ": flock");
    }
    return DiskFile(std::move(fd), path, size, readonly);
}

Status DiskFile::read(std::span<const iovec> iov, uint64_t offset) {
    return transfer(iov, offset, [this](const iovec* v, int n, off_t at) { return ::preadv(m_fd.get(), v, n, at); },
                    "disk read");
}

Status DiskFile::write(std::span<const iovec> iov, uint64_t offset) {
    return transfer(iov, offset, [this](const iovec* v, int n, off_t at) { return ::pwritev(m_fd.get(), v, n, at); },
                    "disk write");
}

Status DiskFile::read_at(void* data, uint64_t length, uint64_t offset) {
    const iovec one{data, length};
    return read({&one, 1}, offset);
}

Status DiskFile::write_at(const void* data, uint64_t length, uint64_t offset) {
    const iovec one{const_cast<void*>(data), length};
    return write({&one, 1}, offset);
}

Status DiskFile::flush() {
    if (::fdatasync(m_fd.get()) < 0)
        return Error::from_errno("disk flush");
    return {};
}

Status DiskFile::set_locked(bool locked) {
    if (::flock(m_fd.get(), locked ? (m_readonly ? LOCK_SH : LOCK_EX) | LOCK_NB : LOCK_UN) < 0)
        return errno == EWOULDBLOCK ? Error(ErrorKind::Busy, "the disk is locked by another process")
                                    : Error::from_errno("disk flock");
    return {};
}

Status DiskFile::discard(uint64_t offset, uint64_t length) {
    if (::fallocate(m_fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) < 0)
        return Error::from_errno("disk discard");
    return {};
}

Status DiskFile::write_zeroes(uint64_t offset, uint64_t length) {
    if (::fallocate(m_fd.get(), FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                    static_cast<off_t>(length)) == 0)
        return {};
    // Not every file system zeroes ranges; punching a hole reads back as zeroes too.
    return discard(offset, length);
}

}  // namespace vmm::virtio
