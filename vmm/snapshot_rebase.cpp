#include "vmm/snapshot_rebase.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "base/unique_fd.h"
#include "vmm/sparse_file.h"

namespace vmm {

namespace {

constexpr uint64_t CHUNK = 1ull << 20;

Result<uint64_t> regular_size(int fd, const std::string& what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return Error::from_errno(what);
    if (!S_ISREG(st.st_mode))
        return Error(what + " is not a regular file");
    return static_cast<uint64_t>(st.st_size);
}

Status copy_range(int from, int to, uint64_t offset, uint64_t length, std::vector<uint8_t>& buffer,
                  const std::string& from_what, const std::string& to_what) {
    while (length) {
        const size_t take = static_cast<size_t>(std::min<uint64_t>(length, buffer.size()));
        const ssize_t got = ::pread(from, buffer.data(), take, static_cast<off_t>(offset));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return got < 0 ? Error::from_errno(from_what) : Error(from_what + " ended early");
        for (ssize_t put = 0; put < got;) {
            const ssize_t n = ::pwrite(to, buffer.data() + put, static_cast<size_t>(got - put),
                                       static_cast<off_t>(offset) + put);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return Error::from_errno(to_what);
            put += n;
        }
        offset += static_cast<uint64_t>(got);
        length -= static_cast<uint64_t>(got);
    }
    return {};
}

}  // namespace

Status rebase_memory_file(const std::string& base_path, const std::string& diff_path) {
    const std::string base_what = fmt::format("base memory file '{}'", base_path);
    const std::string diff_what = fmt::format("diff memory file '{}'", diff_path);
    UniqueFd diff(::open(diff_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!diff.valid())
        return Error::from_errno(diff_what);
    UniqueFd base(::open(base_path.c_str(), O_RDWR | O_CLOEXEC));
    if (!base.valid())
        return Error::from_errno(base_what);
    const uint64_t diff_size = TRY(regular_size(diff.get(), diff_what));
    const uint64_t base_size = TRY(regular_size(base.get(), base_what));
    if (diff_size != base_size)
        return Error(fmt::format("{} is {} bytes and {} is {}: a diff rebases onto a snapshot of the same VM",
                                 diff_what, diff_size, base_what, base_size));
    std::vector<uint8_t> buffer(CHUNK);
    for (const Extent& extent : TRY(data_extents(diff.get(), diff_size, diff_what.c_str())))
        TRY(copy_range(diff.get(), base.get(), extent.offset, extent.length, buffer, diff_what, base_what));
    if (::fsync(base.get()) != 0)
        return Error::from_errno(base_what);
    return {};
}

}  // namespace vmm
