#include "boot/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "base/unique_fd.h"

namespace vmm::boot {

Result<std::vector<uint8_t>> read_image_file(const std::string& path, const char* what,
                                             uint64_t max_size) {
    const std::string name = fmt::format("{} '{}'", what, path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(name);
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0)
        return Error::from_errno(name);
    if (!S_ISREG(st.st_mode))
        return Error(name + ": not a regular file");
    if (st.st_size == 0)
        return Error(name + ": file is empty");
    if (static_cast<uint64_t>(st.st_size) > max_size)
        return Error(fmt::format("{}: {} bytes is larger than guest memory allows ({} bytes)", name,
                                 st.st_size, max_size));
    return read_file_bytes(fd.get(), static_cast<size_t>(st.st_size), name);
}

Result<std::vector<uint8_t>> read_file_bytes(int fd, size_t size, const std::string& name) {
    std::vector<uint8_t> data(size);
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::pread(fd, data.data() + done, data.size() - done, static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno(name);
        if (n == 0)
            return Error(name + ": file shrank while being read");
        done += static_cast<size_t>(n);
    }
    return data;
}

}  // namespace vmm::boot
