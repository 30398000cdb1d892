// Adapts a byte-register device model (uint8_t read(reg) / void write(reg, value)) to a
// BusDevice: multi-byte accesses become consecutive register accesses, and a mutex
// serializes vCPU threads and the event loop.
#pragma once

#include <mutex>
#include <string>
#include <utility>

#include "devices/device.h"

namespace vmm {

template <typename Model>
class ByteRegisterDevice final : public BusDevice {
public:
    template <typename... Args>
    explicit ByteRegisterDevice(std::string name, Args&&... args)
        : m_name(std::move(name)), m_model(std::forward<Args>(args)...) {}

    void read(uint64_t offset, std::span<uint8_t> data) override {
        std::lock_guard lock(m_mutex);
        for (size_t i = 0; i < data.size(); ++i)
            data[i] = m_model.read(static_cast<uint8_t>(offset + i));
    }

    void write(uint64_t offset, std::span<const uint8_t> data) override {
        std::lock_guard lock(m_mutex);
        for (size_t i = 0; i < data.size(); ++i)
            m_model.write(static_cast<uint8_t>(offset + i), data[i]);
    }

    std::string_view name() const override { return m_name; }

    // Runs f(model) under the device lock, for callers outside the bus (host input).
    template <typename F>
    auto with_model(F&& f) {
        std::lock_guard lock(m_mutex);
        return f(m_model);
    }

private:
    std::string m_name;
    std::mutex m_mutex;
    Model m_model;
};

}  // namespace vmm
