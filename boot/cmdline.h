// The kernel command line: built from the user's string plus what devices append, checked
// against the capacity the kernel declares.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace vmm::boot {

class KernelCmdline {
public:
    // Default when the user gives no --cmdline.
    static constexpr std::string_view DEFAULT = "console=ttyS0 reboot=k panic=1";

    static Result<KernelCmdline> create(std::string_view initial);

    // Appends one parameter, space separated. Rejects NUL bytes.
    Status append(std::string_view parameter);

    // Length without the terminating NUL.
    size_t size() const { return m_text.size(); }
    const std::string& str() const { return m_text; }

    // Fails when the line (NUL excluded) is longer than `capacity` bytes.
    Status check_fits(size_t capacity) const;

private:
    std::string m_text;
};

}  // namespace vmm::boot
