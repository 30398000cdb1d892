#include "devices/legacy/debug_exit.h"

namespace vmm {

void DebugExit::write(uint64_t offset, std::span<const uint8_t> data) {
    // Like QEMU, any write to the port exits; the value is the little-endian data written.
    uint32_t value = 0;
    for (size_t i = 0; i < data.size() && i < sizeof value; ++i)
        value |= uint32_t(data[i]) << (8 * i);
    (void)offset;
    m_on_exit(exit_code_for(value));
}

}  // namespace vmm
