#include "devices/legacy/serial_port.h"

namespace vmm {

SerialPort::SerialPort(IrqLine& irq, HostOutput output)
    : m_output(std::move(output)), m_model(irq, [this](uint8_t byte) { m_pending.push_back(byte); }) {
    m_pending.reserve(8);  // an access is at most 8 bytes: no allocation per access
}

void SerialPort::read(uint64_t offset, std::span<uint8_t> data) {
    std::lock_guard lock(m_mutex);
    for (size_t i = 0; i < data.size(); ++i)
        data[i] = m_model.read(static_cast<uint8_t>(offset + i));
}

void SerialPort::write(uint64_t offset, std::span<const uint8_t> data) {
    std::lock_guard output_lock(m_output_mutex);
    {
        std::lock_guard lock(m_mutex);
        for (size_t i = 0; i < data.size(); ++i)
            m_model.write(static_cast<uint8_t>(offset + i), data[i]);
    }
    if (!m_pending.empty()) {
        m_output(m_pending);
        m_pending.clear();
    }
}

}  // namespace vmm
