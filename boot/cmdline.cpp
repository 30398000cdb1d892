#include "boot/cmdline.h"

#include <fmt/format.h>

namespace vmm::boot {

Result<KernelCmdline> KernelCmdline::create(std::string_view initial) {
    KernelCmdline cmdline;
    if (!initial.empty())
        TRY(cmdline.append(initial));
    return cmdline;
}

Status KernelCmdline::append(std::string_view parameter) {
    if (parameter.find('\0') != std::string_view::npos)
        return Error("kernel command line contains a NUL byte");
    if (!m_text.empty() && !parameter.empty())
        m_text.push_back(' ');
    m_text.append(parameter);
    return {};
}

Status KernelCmdline::check_fits(size_t capacity) const {
    if (m_text.size() > capacity)
        return Error(fmt::format("kernel command line is {} bytes; the kernel accepts at most {}",
                                 m_text.size(), capacity));
    return {};
}

}  // namespace vmm::boot
