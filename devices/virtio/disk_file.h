// The host side of a virtio-blk disk: a raw image (regular file or block device), locked
// against a second user, with positional scatter-gather I/O.
#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <span>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm::virtio {

class DiskFile {
public:
    static constexpr uint64_t SECTOR = 512;

    // Opens read-only or read-write and takes a non-blocking flock (shared when read-only,
    // exclusive otherwise). Fails on a size that is not a whole number of sectors, unless
    // `any_size` (an image format's file, whose size is not the disk's).
    static Result<DiskFile> open(const std::string& path, bool readonly, bool any_size = false);

    uint64_t size() const { return m_size; }
    // Whether `path` names this open file (same device and inode), as after a resize.
    Result<bool> is(const std::string& path) const;
    // The size read again, for a file resized while open; a failure keeps the old size.
    Status reread_size();
    bool readonly() const { return m_readonly; }
    const std::string& path() const { return m_path; }
    int fd() const { return m_fd.get(); }

    // Transfers exactly the iovecs' total at `offset`; a short transfer is an error.
    Status read(std::span<const iovec> iov, uint64_t offset);
    Status write(std::span<const iovec> iov, uint64_t offset);
    // The same for one buffer (an image format's metadata).
    Status read_at(void* data, uint64_t length, uint64_t offset);
    Status write_at(const void* data, uint64_t length, uint64_t offset);
    Status flush();
    // The flock open() took, dropped (false) and taken again (true): a live migration hands
    // the disk to the receiving process on the same host, and takes it back if that fails.
    Status set_locked(bool locked);
    Status discard(uint64_t offset, uint64_t length);
    Status write_zeroes(uint64_t offset, uint64_t length);

private:
    DiskFile(UniqueFd fd, std::string path, uint64_t size, bool readonly)
        : m_fd(std::move(fd)), m_path(std::move(path)), m_size(size), m_readonly(readonly) {}

    UniqueFd m_fd;
    std::string m_path;
    uint64_t m_size;
    bool m_readonly;
};

}  // namespace vmm::virtio
