#include "vmm/host_console.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include <spdlog/spdlog.h>

namespace vmm {

namespace {

constexpr size_t STDIN_CHUNK = 256;

void write_all(int fd, const uint8_t* data, size_t len) {
    while (len) {
        ssize_t n = ::write(fd, data, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;  // a closed or full output must not stop the guest
        data += n;
        len -= static_cast<size_t>(n);
    }
}

}  // namespace

HostConsole::~HostConsole() = default;

void HostConsole::write(std::span<const uint8_t> bytes) {
    if (m_output_fd < 0)
        return;
    if (m_config.mode == ConsoleConfig::Mode::File) {
        // The guest writes as much as it likes; the host's disk takes at most the cap.
        const uint64_t room = m_max_file_bytes - m_file_bytes;
        if (bytes.size() > room) {
            if (!m_file_full)
                spdlog::warn("{} output file '{}' reached {} bytes; further guest output is dropped", m_name,
                             m_config.path, m_max_file_bytes);
            m_file_full = true;
            bytes = bytes.first(room);
        }
        m_file_bytes += bytes.size();
    }
    write_all(m_output_fd, bytes.data(), bytes.size());
}

Status HostConsole::open_output() {
    switch (m_config.mode) {
    case ConsoleConfig::Mode::Off:
        return {};
    case ConsoleConfig::Mode::Tty:
        m_output_fd = STDOUT_FILENO;
        return {};
    case ConsoleConfig::Mode::File: {
        int fd = ::open(m_config.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
            return Error::from_errno(std::string(m_name) + " output file '" + m_config.path + "'");
        m_output_file.reset(fd);
        m_output_fd = fd;
        return {};
    }
    }
    return {};
}

Status HostConsole::attach_input(EventLoop& loop, InputSink sink) {
    if (m_config.mode != ConsoleConfig::Mode::Tty)
        return {};
    m_sink = std::move(sink);
    int event = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (event < 0)
        return Error::from_errno("eventfd");
    m_space_event.reset(event);
    TRY(loop.add(m_space_event.get(), EPOLLIN, [this, &loop](uint32_t) { on_space(loop); }, EventGroup::Device));
    // A stdin that epoll cannot watch (a regular file) or that is closed gives no input.
    if (!loop.add(STDIN_FILENO, EPOLLIN, [this, &loop](uint32_t) { on_stdin(loop); }, EventGroup::Device).ok())
        return {};
    m_raw_terminal = RawTerminal::enter(STDIN_FILENO);
    return {};
}

void HostConsole::input_space() {
    if (!m_space_event.valid())
        return;
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_space_event.get(), &one, sizeof one);
}

void HostConsole::on_stdin(EventLoop& loop) {
    std::array<uint8_t, STDIN_CHUNK> buf;
    ssize_t n = ::read(STDIN_FILENO, buf.data(), buf.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {  // EOF or error: no more input
        (void)loop.remove(STDIN_FILENO);
        return;
    }
    m_pending.insert(m_pending.end(), buf.begin(), buf.begin() + n);
    push_pending();
    if (!m_pending.empty() && !m_stdin_paused) {
        m_stdin_paused = true;
        (void)loop.modify(STDIN_FILENO, 0);
    }
}

void HostConsole::on_space(EventLoop& loop) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(m_space_event.get(), &count, sizeof count);
    push_pending();
    if (m_pending.empty() && m_stdin_paused) {
        m_stdin_paused = false;
        (void)loop.modify(STDIN_FILENO, EPOLLIN);
    }
}

void HostConsole::push_pending() {
    if (m_pending.empty())
        return;
    const size_t accepted = m_sink(m_pending);
    m_pending.erase(m_pending.begin(), m_pending.begin() + static_cast<std::ptrdiff_t>(accepted));
}

}  // namespace vmm
