// Raw mode for an interactive console on stdin, restored when the owner goes away on every
// exit path that unwinds (normal exit, guest reset, SIGINT/SIGTERM via signalfd, errors).
#pragma once

#include <termios.h>

#include <memory>

namespace vmm {

class RawTerminal {
public:
    // nullptr when fd is not a terminal (pipes, files, /dev/null): nothing to change.
    static std::unique_ptr<RawTerminal> enter(int fd);
    ~RawTerminal();
    RawTerminal(const RawTerminal&) = delete;
    RawTerminal& operator=(const RawTerminal&) = delete;

private:
    RawTerminal(int fd, const termios& saved) : m_fd(fd), m_saved(saved) {}
    int m_fd;
    termios m_saved;
};

}  // namespace vmm
