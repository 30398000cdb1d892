// with_tap_fd NAME COMMAND [ARGS...]: opens the TAP NAME (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR,
// created if missing) and runs COMMAND with that fd inherited; "{fd}" in an argument becomes
// its number. How a privileged launcher hands Ember a TAP with --net fd=N.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: with_tap_fd NAME COMMAND [ARGS...]\n");
        return 2;
    }
    const int fd = ::open("/dev/net/tun", O_RDWR);  // inherited by COMMAND: no O_CLOEXEC
    ifreq request{};
    std::strncpy(request.ifr_name, argv[1], IFNAMSIZ - 1);
    request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
    if (fd < 0 || ::ioctl(fd, TUNSETIFF, &request) < 0) {
        std::perror("with_tap_fd: TAP");
        return 1;
    }
    std::vector<std::string> args(argv + 2, argv + argc);
    std::vector<char*> exec_args;
    for (auto& arg : args) {
        for (size_t at; (at = arg.find("{fd}")) != std::string::npos;)
            arg.replace(at, 4, std::to_string(fd));
        exec_args.push_back(arg.data());
    }
    exec_args.push_back(nullptr);
    ::execvp(exec_args[0], exec_args.data());
    std::perror("with_tap_fd: exec");
    return 127;
}
