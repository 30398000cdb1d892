#include "devices/virtio/tap.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "devices/virtio/net_header.h"

namespace vmm::virtio {

namespace {

constexpr short TAP_FLAGS = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
constexpr const char* PERMISSION_HINT = " (opening or creating a TAP needs CAP_NET_ADMIN; an unprivileged "
                                        "Ember can be handed an open one with fd=N)";

ifreq named_request(const std::string& name) {
    ifreq request{};
    std::memcpy(request.ifr_name, name.data(), std::min(name.size(), sizeof request.ifr_name - 1));
    return request;
}

sockaddr inet_address(uint32_t address) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = address;
    sockaddr out;
    static_assert(sizeof out == sizeof in);
    std::memcpy(&out, &in, sizeof out);
    return out;
}

// The host side of the link: address, netmask, up.
Status configure_address(const std::string& name, const TapAddress& address) {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid())
        return Error::from_errno("socket(AF_INET)");
    ifreq request = named_request(name);
    request.ifr_addr = inet_address(address.ip);
    if (::ioctl(sock.get(), SIOCSIFADDR, &request) < 0)
        return Error::from_errno(fmt::format("tap '{}': setting its address", name));
    request.ifr_netmask = inet_address(address.mask);
    if (::ioctl(sock.get(), SIOCSIFNETMASK, &request) < 0)
        return Error::from_errno(fmt::format("tap '{}': setting its netmask", name));
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &request) < 0)
        return Error::from_errno(fmt::format("tap '{}': reading its flags", name));
    request.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &request) < 0)
        return Error::from_errno(fmt::format("tap '{}': bringing it up", name));
    return {};
}

Result<UniqueFd> open_queue(const std::string& name, bool multi_queue) {
    UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
        const int err = errno;
        return Error::from_errno(fmt::format("tap '{}': /dev/net/tun{}", name, err == EACCES ? PERMISSION_HINT : ""),
                                 err);
    }
    ifreq request = named_request(name);
    request.ifr_flags = static_cast<short>(TAP_FLAGS | (multi_queue ? IFF_MULTI_QUEUE : 0));
    if (::ioctl(fd.get(), TUNSETIFF, &request) < 0) {
        const int err = errno;
        if (err == EPERM)
            return Error::from_errno(fmt::format("tap '{}': TUNSETIFF{}", name, PERMISSION_HINT), err);
        if (err == EBUSY || err == EINVAL)
            return Error::from_errno(fmt::format("tap '{}': exists as another kind of device, is in use, "
                                                 "or has other queue flags", name), err)
                .with_kind(ErrorKind::Busy);
        return Error::from_errno(fmt::format("tap '{}': TUNSETIFF", name), err);
    }
    return fd;
}

}  // namespace

Result<std::unique_ptr<Tap>> Tap::prepare(UniqueFd fd, const std::string& what) {
    int header_size = sizeof(net::Header);
    if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &header_size) < 0)
        return Error::from_errno(what + ": TUNSETVNETHDRSZ");
    if (::ioctl(fd.get(), TUNSETOFFLOAD, 0ul) < 0)
        return Error::from_errno(what + ": TUNSETOFFLOAD");
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) < 0)
        return Error::from_errno(what + ": O_NONBLOCK");
    return std::unique_ptr<Tap>(new Tap(std::move(fd)));
}

Result<std::vector<std::unique_ptr<NetBackend>>> Tap::open(const std::string& name, uint32_t queues,
                                                           const TapAddress* address) {
    std::vector<std::unique_ptr<NetBackend>> taps;
    for (uint32_t i = 0; i < queues; ++i) {
        UniqueFd fd = TRY(open_queue(name, queues > 1));
        taps.push_back(TRY(prepare(std::move(fd), fmt::format("tap '{}'", name))));
    }
    if (address)
        TRY(configure_address(name, *address));
    return taps;
}

Result<std::unique_ptr<NetBackend>> Tap::adopt(int fd) {
    const std::string what = fmt::format("net fd={}", fd);
    UniqueFd copy(::fcntl(fd, F_DUPFD_CLOEXEC, 3));
    if (!copy.valid())
        return Error::from_errno(what + ": not an open file descriptor");
    ifreq request{};
    if (::ioctl(copy.get(), TUNGETIFF, &request) < 0)
        return Error(what + ": not a TAP device (TUNGETIFF failed)");
    if ((request.ifr_flags & TAP_FLAGS) != TAP_FLAGS)
        return Error(what + ": the TAP must be opened with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR");
    return std::unique_ptr<NetBackend>(TRY(prepare(std::move(copy), what)));
}

Result<size_t> Tap::receive(std::span<uint8_t> frame) {
    for (;;) {
        const ssize_t n = ::read(m_fd.get(), frame.data(), frame.size());
        if (n >= 0)
            return static_cast<size_t>(n);
        if (errno == EAGAIN)
            return size_t{0};
        if (errno != EINTR)
            return Error::from_errno("tap read");
    }
}

Status Tap::send(std::span<const iovec> parts) {
    for (;;) {
        if (::writev(m_fd.get(), parts.data(), static_cast<int>(parts.size())) >= 0)
            return {};
        if (errno != EINTR)
            return Error::from_errno("tap write");
    }
}

Status Tap::set_offload(uint32_t tun_flags) {
    if (::ioctl(m_fd.get(), TUNSETOFFLOAD, static_cast<unsigned long>(tun_flags)) < 0)
        return Error::from_errno("TUNSETOFFLOAD");
    return {};
}

Status Tap::set_enabled(bool enabled) {
    if (enabled == m_enabled)
        return {};  // the kernel refuses to attach an attached queue (or detach a detached one)
    ifreq request{};
    request.ifr_flags = static_cast<short>(enabled ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE);
    if (::ioctl(m_fd.get(), TUNSETQUEUE, &request) < 0)
        return Error::from_errno("TUNSETQUEUE");
    m_enabled = enabled;
    return {};
}

}  // namespace vmm::virtio
