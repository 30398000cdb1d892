// QEMU's isa-debug-exit (iosize=4): a guest write of v makes the VMM exit with (v << 1) | 1,
// so test guests can report a result through the exit status.
#pragma once

#include <functional>

#include "devices/device.h"

namespace vmm {

class DebugExit final : public BusDevice {
public:
    explicit DebugExit(std::function<void(int exit_code)> on_exit) : m_on_exit(std::move(on_exit)) {}

    void read(uint64_t, std::span<uint8_t>) override {}
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    std::string_view name() const override { return "debug-exit"; }

    // (value << 1) | 1, truncated to what a process exit status holds.
    static int exit_code_for(uint32_t value) { return static_cast<int>(((value << 1) | 1) & 0xff); }

private:
    std::function<void(int)> m_on_exit;
};

}  // namespace vmm
