#include "vmm/jailer/sys_files.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/unique_fd.h"

namespace vmm::jailer {

namespace {

Status write_all_once(const std::string& path, int flags, std::string_view text) {
    UniqueFd fd(::open(path.c_str(), flags | O_WRONLY | O_CLOEXEC, 0644));
    if (!fd.valid())
        return Error::from_errno(path);
    const ssize_t n = ::write(fd.get(), text.data(), text.size());
    if (n < 0)
        return Error::from_errno(path);
    if (static_cast<size_t>(n) != text.size())
        return Error(ErrorKind::HostResource, path + ": a short write");
    return {};
}

}  // namespace

Result<std::string> read_text(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return Error::from_errno(path);
    std::string text;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0)
            return Error::from_errno(path);
        if (n == 0)
            return text;
        text.append(buffer, static_cast<size_t>(n));
    }
}

Status write_text(const std::string& path, std::string_view text) { return write_all_once(path, 0, text); }

Status create_text(const std::string& path, std::string_view text) {
    return write_all_once(path, O_CREAT | O_EXCL, text);
}

}  // namespace vmm::jailer
