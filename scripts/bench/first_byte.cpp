// first_byte: runs a command with stdout on a pipe and reports, in microseconds, the time from
// just before exec to the first byte the command writes, and to its exit. Used by the
// startup benchmark to time Ember and QEMU on the same guest.
//   first_byte -- COMMAND [ARGS...]   ->   "first_byte_us=N exit_us=M status=S"
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>

namespace {

long long micros_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
        .count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || std::strcmp(argv[1], "--") != 0) {
        std::fprintf(stderr, "usage: first_byte -- COMMAND [ARGS...]\n");
        return 2;
    }
    int fds[2];
    if (pipe(fds) < 0) {
        std::perror("pipe");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    close(fds[1]);
    long long first = -1;
    char buf[4096];
    for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
        if (n < 0)
            break;
        if (first < 0)
            first = micros_since(start);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    const long long done = micros_since(start);
    std::printf("first_byte_us=%lld exit_us=%lld status=%d\n", first, done,
                WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
