#include "devices/virtio/virtio_transport.h"

namespace vmm::virtio {

bool CoreTransport::notify(uint32_t index) {
    std::lock_guard lock(m_mutex);
    return m_core.notify(index);
}

void CoreTransport::external_used(uint32_t index) {
    std::lock_guard lock(m_mutex);
    m_core.external_used(index);
}

void CoreTransport::external_failed(const std::string& why) {
    std::lock_guard lock(m_mutex);
    m_core.needs_reset(why);
}

uint32_t CoreTransport::status() const {
    std::lock_guard lock(m_mutex);
    return m_core.status();
}

Status CoreTransport::change_device(const std::function<Status(VirtioDevice&)>& change) {
    std::lock_guard lock(m_mutex);
    TRY(change(m_core.device()));
    m_core.config_changed();
    return {};
}

Status CoreTransport::with_device(const std::function<Status(VirtioDevice&)>& use) {
    std::lock_guard lock(m_mutex);
    return use(m_core.device());
}

}  // namespace vmm::virtio
