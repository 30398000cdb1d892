#include "vmm/sparse_file.h"

#include <unistd.h>

#include <cerrno>

namespace vmm {

Result<std::vector<Extent>> data_extents(int fd, uint64_t size, const char* what) {
    std::vector<Extent> extents;
    uint64_t at = 0;
    while (at < size) {
        const off_t data = ::lseek(fd, static_cast<off_t>(at), SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break;  // only a hole from here on
        if (data < 0)
            return Error::from_errno(what);
        const off_t hole = ::lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
            return Error::from_errno(what);
        const uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
        if (static_cast<uint64_t>(data) >= end)
            break;
        extents.push_back({static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
        at = end;
    }
    return extents;
}

}  // namespace vmm
