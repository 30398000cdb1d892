// vmm_memory GUEST_MIB -- COMMAND...: starts a VMM running a guest that prints a line and then
// keeps running (the echo guest), waits for that line, and reports the VMM's own memory:
// RSS and PSS summed over every mapping except the guest's RAM (anonymous mappings at least
// GUEST_MIB large), then stops it. Prints "rss_kb=N pss_kb=M guest_rss_kb=G".
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace {

struct Usage {
    long rss_kb = 0, pss_kb = 0, guest_rss_kb = 0;
};

Usage read_smaps(pid_t pid, unsigned long long guest_bytes) {
    std::ifstream smaps("/proc/" + std::to_string(pid) + "/smaps");
    Usage usage;
    bool guest = false;
    for (std::string line; std::getline(smaps, line);) {
        unsigned long long start = 0, end = 0;
        char dash = 0;
        std::istringstream fields(line);
        if (std::isxdigit(static_cast<unsigned char>(line[0])) && (fields >> std::hex >> start >> dash >> end) &&
            dash == '-') {
            // A header line; the 6th field (path) is absent for anonymous mappings.
            std::string perms, offset, dev, inode, path;
            fields >> perms >> offset >> dev >> inode >> path;
            guest = end - start >= guest_bytes && (path.empty() || path.starts_with("[anon"));
            continue;
        }
        long kb = 0;
        if (std::sscanf(line.c_str(), "Rss: %ld kB", &kb) == 1)
            (guest ? usage.guest_rss_kb : usage.rss_kb) += kb;
        else if (std::sscanf(line.c_str(), "Pss: %ld kB", &kb) == 1 && !guest)
            usage.pss_kb += kb;
    }
    return usage;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4 || std::strcmp(argv[2], "--") != 0) {
        std::fprintf(stderr, "usage: vmm_memory GUEST_MIB -- COMMAND [ARGS...]\n");
        return 2;
    }
    const unsigned long long guest_bytes = std::stoull(argv[1]) << 20;
    int out[2], in[2];
    if (pipe(out) < 0 || pipe(in) < 0)
        return 2;
    const pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);  // kept open and silent: the guest waits for input
        dup2(out[1], STDOUT_FILENO);
        for (int fd : {in[0], in[1], out[0], out[1]})
            close(fd);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    close(out[1]);
    close(in[0]);
    char c = 0;
    while (read(out[0], &c, 1) == 1 && c != '\n') {
    }
    if (c != '\n') {
        std::fprintf(stderr, "vmm_memory: the guest printed no line\n");
        return 1;
    }
    const Usage usage = read_smaps(pid, guest_bytes);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    std::printf("rss_kb=%ld pss_kb=%ld guest_rss_kb=%ld\n", usage.rss_kb, usage.pss_kb, usage.guest_rss_kb);
    return 0;
}
