#include "vmm/uffd_backend.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/unix_address.h"

namespace vmm {

namespace {

// userfaultfd(2), or /dev/userfaultfd (Linux 6.1+) where the syscall is refused. Not
// UFFD_USER_MODE_ONLY: KVM touches guest pages from the kernel.
Result<UniqueFd> open_userfaultfd() {
    UniqueFd fd(static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK)));
    if (fd.valid())
        return fd;
    const int syscall_errno = errno;
    UniqueFd device(::open("/dev/userfaultfd", O_RDWR | O_CLOEXEC));
#ifdef USERFAULTFD_IOC_NEW
    if (device.valid()) {
        fd.reset(::ioctl(device.get(), USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK));
        if (fd.valid())
            return fd;
    }
#endif
    errno = syscall_errno;
    return Error::from_errno("mem_backend Uffd: userfaultfd (it needs root, CAP_SYS_PTRACE or access to "
                             "/dev/userfaultfd; vm.unprivileged_userfaultfd does not cover KVM's faults)");
}

Status register_memory(int uffd, const GuestMemory& memory) {
    uffdio_api api{};
    api.api = UFFD_API;
    if (::ioctl(uffd, UFFDIO_API, &api) != 0)
        return Error::from_errno("mem_backend Uffd: UFFDIO_API");
    for (const auto& region : memory.regions()) {
        uffdio_register reg{};
        reg.range.start = reinterpret_cast<uint64_t>(region.host);
        reg.range.len = region.size;
        reg.mode = UFFDIO_REGISTER_MODE_MISSING;
        if (::ioctl(uffd, UFFDIO_REGISTER, &reg) != 0)
            return Error::from_errno(fmt::format("mem_backend Uffd: UFFDIO_REGISTER of {} MiB", region.size >> 20));
    }
    return {};
}

Status send_with_fd(int socket, const std::string& text, int fd, const std::string& what) {
    iovec data{const_cast<char*>(text.data()), text.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &fd, sizeof fd);
    for (;;) {
        const ssize_t sent = ::sendmsg(socket, &message, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0)
            return Error::from_errno(what);
        if (static_cast<size_t>(sent) != text.size())
            return Error(what + ": the layout was not sent whole");
        return {};
    }
}

}  // namespace

std::string uffd_mappings_json(const GuestMemory& memory) {
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    nlohmann::json regions = nlohmann::json::array();
    for (const auto& region : memory.regions()) {
        regions.push_back({{"base_host_virt_addr", reinterpret_cast<uint64_t>(region.host)},
                           {"size", region.size},
                           {"offset", region.fd_offset},
                           {"page_size", page},
                           {"page_size_kib", page}});
    }
    return regions.dump();
}

Result<std::vector<UniqueFd>> hand_memory_to_uffd_handler(const GuestMemory& memory, const std::string& socket_path) {
    const std::string what = fmt::format("mem_backend Uffd: the page fault handler at '{}'", socket_path);
    const auto address = unix_address(socket_path);
    if (!address)
        return Error(fmt::format("{}: the path must be 1 to {} bytes", what, MAX_UNIX_PATH));
    UniqueFd uffd = TRY(open_userfaultfd());
    TRY(register_memory(uffd.get(), memory));
    UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid() || ::connect(socket.get(), as_sockaddr(*address), sizeof *address) != 0)
        return Error::from_errno(what);
    TRY(send_with_fd(socket.get(), uffd_mappings_json(memory), uffd.get(), what));
    std::vector<UniqueFd> held;
    held.push_back(std::move(uffd));
    held.push_back(std::move(socket));
    return held;
}

}  // namespace vmm
