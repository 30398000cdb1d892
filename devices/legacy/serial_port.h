// The 16550 model as a bus device. Register accesses run under the model's lock; what the
// guest transmitted during an access goes to the host after that lock is released (in order,
// under a separate output lock). A stalled host output then blocks only the vCPUs writing to
// the port, never the host-input path, which needs the model's lock alone.
#pragma once

#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "devices/device.h"
#include "devices/legacy/serial.h"

namespace vmm {

class SerialPort final : public BusDevice {
public:
    using HostOutput = std::function<void(std::span<const uint8_t>)>;

    SerialPort(IrqLine& irq, HostOutput output);

    void read(uint64_t offset, std::span<uint8_t> data) override;
    void write(uint64_t offset, std::span<const uint8_t> data) override;
    std::string_view name() const override { return "serial"; }

    // Runs f(model) under the model's lock, for callers outside the bus (host input).
    template <typename F>
    auto with_model(F&& f) {
        std::lock_guard lock(m_mutex);
        return f(m_model);
    }

private:
    HostOutput m_output;
    std::mutex m_output_mutex;       // taken before m_mutex: orders output between vCPUs
    std::mutex m_mutex;
    std::vector<uint8_t> m_pending;  // transmitted during the current access (at most its size)
    Serial m_model;
};

}  // namespace vmm
