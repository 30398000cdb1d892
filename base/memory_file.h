// The file behind `--memory backend=file:PATH`: guest RAM mapped MAP_SHARED from a file the
// user names, on tmpfs (/dev/shm), hugetlbfs (/dev/hugepages) or any file system.
//  - PATH a directory: an unnamed file in it (O_TMPFILE), gone when Ember ends.
//  - PATH an existing regular file: used when it is empty (then sized) or exactly the guest's
//    size; locked (flock LOCK_EX) so a second Ember cannot map the same RAM.
//  - PATH new: made unnamed in its directory and given its name by publish() once the VM is
//    built, so that a failed start leaves no file behind.
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

class MemoryFile {
public:
    // hugetlb: the guest asked for 2 MiB huge pages, so the file must be on a hugetlbfs of
    // that page size (and a file on hugetlbfs needs that ask).
    static Result<MemoryFile> open(const std::string& path, uint64_t size, bool hugetlb);

    MemoryFile(MemoryFile&& other) noexcept;
    MemoryFile& operator=(MemoryFile&&) = delete;
    MemoryFile(const MemoryFile&) = delete;
    ~MemoryFile();

    // Another descriptor of the same open file (it shares the lock) for GuestMemory to map.
    Result<UniqueFd> share() const;
    // Links a new file under its name; a no-op for the other cases.
    Status publish();

private:
    MemoryFile(std::string path, UniqueFd fd) : m_path(std::move(path)), m_fd(std::move(fd)) {}

    std::string m_path;
    UniqueFd m_fd;
    bool m_unnamed = false;         // an O_TMPFILE that publish() links as m_path
    bool m_unlink_on_drop = false;  // made under m_path (no O_TMPFILE here), removed unless published
};

}  // namespace vmm
