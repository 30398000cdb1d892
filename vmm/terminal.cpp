#include "vmm/terminal.h"

#include <unistd.h>

namespace vmm {

std::unique_ptr<RawTerminal> RawTerminal::enter(int fd) {
    termios saved{};
    if (!::isatty(fd) || ::tcgetattr(fd, &saved) < 0)
        return nullptr;
    termios raw = saved;
    ::cfmakeraw(&raw);
    raw.c_oflag |= OPOST | ONLCR;  // keep host-side newline handling of our own messages
    if (::tcsetattr(fd, TCSANOW, &raw) < 0)
        return nullptr;
    return std::unique_ptr<RawTerminal>(new RawTerminal(fd, saved));
}

RawTerminal::~RawTerminal() { ::tcsetattr(m_fd, TCSANOW, &m_saved); }

}  // namespace vmm
