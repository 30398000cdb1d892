// vm_rate SECONDS PARALLEL -- COMMAND...: starts COMMAND (a VM that runs to its end) again and
// again for SECONDS, keeping PARALLEL of them running, and prints how many finished per second
// and how many failed (a non-zero exit other than the expected guest status is up to the
// caller: the status of every run must equal the first one's).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
        std::fprintf(stderr, "usage: vm_rate SECONDS PARALLEL -- COMMAND [ARGS...]\n");
        return 2;
    }
    const double seconds = std::atof(argv[1]);
    const int parallel = std::atoi(argv[2]);
    const auto start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
    auto launch = [&] {
        const pid_t pid = fork();
        if (pid == 0) {
            const int null = open("/dev/null", O_RDWR);
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            execvp(argv[4], argv + 4);
            _exit(127);
        }
    };
    int running = 0, first_status = -1;
    long done = 0, mismatched = 0;
    for (; running < parallel; ++running)
        launch();
    while (running > 0) {
        int status = 0;
        if (wait(&status) < 0)
            break;
        --running;
        const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (first_status < 0)
            first_status = code;
        mismatched += code != first_status;
        ++done;
        if (elapsed() < seconds) {
            launch();
            ++running;
        }
    }
    std::printf("vms_per_s=%.1f runs=%ld mismatched=%ld status=%d\n", done / elapsed(), done, mismatched,
                first_status);
    return mismatched == 0 ? 0 : 1;
}
