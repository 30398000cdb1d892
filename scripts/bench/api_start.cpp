// api_start: the API's share of a boot. Starts `EMBER --api-sock SOCK` with stdout (the serial
// port) on a pipe; reports, in microseconds, exec -> the socket accepts a connection, then
// after PUT /boot-source + PUT /machine-config on that connection, PUT /actions InstanceStart
// -> the guest's first serial byte, and exec -> first byte overall (to compare with the same
// boot from the command line, bench_first_byte).
//   api_start EMBER KERNEL MEMORY_MIB SOCK  ->  "socket_ready_us=N start_to_first_byte_us=M first_byte_us=F status=S"
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

long long micros_since(Clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count();
}

int connect_when_ready(const char* path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    for (int tries = 0; tries < 200000; ++tries) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0)
            return fd;
        close(fd);
        const timespec pause{0, 20000};  // 20 us between tries
        nanosleep(&pause, nullptr);
    }
    return -1;
}

// One request; true on a 2xx answer (read up to its blank line: these answers have no body).
bool request(int fd, const std::string& method, const std::string& path, const std::string& body) {
    const std::string text = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        return false;
    std::string answer;
    char buf[512];
    while (answer.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n <= 0)
            return false;
        answer.append(buf, static_cast<size_t>(n));
    }
    return answer.compare(9, 1, "2") == 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: api_start EMBER KERNEL MEMORY_MIB SOCK\n");
        return 2;
    }
    unlink(argv[4]);
    int out[2];
    if (pipe(out) < 0)
        return 2;
    const auto start = Clock::now();
    pid_t pid = fork();
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execl(argv[1], argv[1], "--api-sock", argv[4], "--debug-exit", static_cast<char*>(nullptr));
        _exit(127);
    }
    close(out[1]);
    const int api = connect_when_ready(argv[4]);
    const long long ready = micros_since(start);
    const std::string boot = std::string(R"({"kernel_image_path": ")") + argv[2] + "\"}";
    const std::string machine = std::string(R"({"vcpu_count": 1, "mem_size_mib": )") + argv[3] + "}";
    long long to_first = -1, first = -1;
    if (api >= 0 && request(api, "PUT", "/boot-source", boot) && request(api, "PUT", "/machine-config", machine)) {
        const auto started = Clock::now();
        const std::string action = R"({"action_type": "InstanceStart"})";
        const std::string text = "PUT /actions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                                 "Content-Length: " + std::to_string(action.size()) + "\r\n\r\n" + action;
        if (write(api, text.data(), text.size()) == static_cast<ssize_t>(text.size())) {
            char byte;
            if (read(out[0], &byte, 1) == 1) {
                to_first = micros_since(started);
                first = micros_since(start);
            }
        }
    }
    char buf[4096];
    while (read(out[0], buf, sizeof buf) > 0) {
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (api >= 0)
        close(api);
    std::printf("socket_ready_us=%lld start_to_first_byte_us=%lld first_byte_us=%lld status=%d\n", ready, to_first,
                first, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
