// uffd_handler SOCKET MEMORY_FILE: a page fault handler for Firecracker's Uffd snapshot
// backend, as a user would write one. Listens at SOCKET, takes one VMM's message (a JSON
// array of regions and a userfaultfd, SCM_RIGHTS), then serves every missing-page fault with
// UFFDIO_COPY of that page from MEMORY_FILE (mapped privately), until the VMM closes the
// socket. Prints "uffd_handler: N faults served" and exits 0; 1 with a reason on error.
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "uffd_handler: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

struct Region {
    uint64_t base, size, offset;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: uffd_handler SOCKET MEMORY_FILE\n");
        return 2;
    }
    const int memory_fd = ::open(argv[2], O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (memory_fd < 0 || ::fstat(memory_fd, &st) != 0)
        die(argv[2]);
    const auto* memory = static_cast<const uint8_t*>(
        ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, memory_fd, 0));
    if (memory == MAP_FAILED)
        die("mmap of the memory file");

    const int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", argv[1]);
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener, 1) != 0)
        die(argv[1]);
    const int vmm = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (vmm < 0)
        die("accept");

    std::vector<char> text(64 * 1024);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    iovec data{text.data(), text.size()};
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    const ssize_t got = ::recvmsg(vmm, &message, 0);
    const cmsghdr* header = CMSG_FIRSTHDR(&message);
    if (got <= 0 || !header || header->cmsg_type != SCM_RIGHTS)
        die("the VMM's message (no layout or no userfaultfd)");
    int uffd = -1;
    std::memcpy(&uffd, CMSG_DATA(header), sizeof uffd);
    std::vector<Region> regions;
    for (const auto& r : nlohmann::json::parse(std::string(text.data(), static_cast<size_t>(got)))) {
        regions.push_back({r.at("base_host_virt_addr").get<uint64_t>(), r.at("size").get<uint64_t>(),
                           r.at("offset").get<uint64_t>()});
        if (r.at("page_size").get<uint64_t>() != 4096)
            die("a page size other than 4 KiB");
    }

    uint64_t served = 0;
    for (;;) {
        pollfd fds[2] = {{uffd, POLLIN, 0}, {vmm, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR)
            die("poll");
        if (fds[1].revents) {  // the VMM closed its end: it has exited
            char byte;
            if (::recv(vmm, &byte, 1, MSG_DONTWAIT) <= 0)
                break;
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        uffd_msg event{};
        if (::read(uffd, &event, sizeof event) != sizeof event) {
            if (errno == EAGAIN)
                continue;
            die("reading the userfaultfd");
        }
        if (event.event != UFFD_EVENT_PAGEFAULT)
            continue;
        const uint64_t page = event.arg.pagefault.address & ~4095ull;
        const Region* region = nullptr;
        for (const Region& r : regions) {
            if (page >= r.base && page - r.base < r.size)
                region = &r;
        }
        if (!region || region->offset + (page - region->base) + 4096 > static_cast<uint64_t>(st.st_size))
            die("a fault outside the regions or the memory file");
        uffdio_copy copy{};
        copy.dst = page;
        copy.src = reinterpret_cast<uint64_t>(memory + region->offset + (page - region->base));
        copy.len = 4096;
        if (::ioctl(uffd, UFFDIO_COPY, &copy) != 0 && errno != EEXIST)
            die("UFFDIO_COPY");
        ++served;
    }
    std::printf("uffd_handler: %llu faults served\n", static_cast<unsigned long long>(served));
    return 0;
}
