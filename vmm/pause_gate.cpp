#include "vmm/pause_gate.h"

namespace vmm {

void PauseGate::close(const std::function<void()>& kick) {
    {
        std::lock_guard lock(m_mutex);
        if (m_closed || m_released)
            return;
        m_closed = true;
    }
    kick();
    std::unique_lock lock(m_mutex);
    m_changed.wait(lock, [this] { return m_parked >= m_vcpus || m_released; });
}

void PauseGate::close_before_start() {
    std::lock_guard lock(m_mutex);
    m_closed = true;
}

void PauseGate::open() {
    std::lock_guard lock(m_mutex);
    m_closed = false;
    m_changed.notify_all();
}

bool PauseGate::closed() const {
    std::lock_guard lock(m_mutex);
    return m_closed;
}

void PauseGate::release() {
    std::lock_guard lock(m_mutex);
    m_released = true;
    m_closed = false;
    m_changed.notify_all();
}

bool PauseGate::park_if_closed() {
    std::unique_lock lock(m_mutex);
    if (!m_closed || m_released)
        return false;
    ++m_parked;
    m_changed.notify_all();
    m_changed.wait(lock, [this] { return !m_closed || m_released; });
    --m_parked;
    return true;
}

void PauseGate::leave() {
    std::lock_guard lock(m_mutex);
    if (m_vcpus > 0)
        --m_vcpus;
    m_changed.notify_all();
}

}  // namespace vmm
