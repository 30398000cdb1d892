#include "devices/virtio/fs.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/rate_limiter.h"

namespace vmm::virtio {

namespace {

// What Ember can pass through to a backend: the rings' own features. Everything else a
// backend may offer (logging for migration, packed rings, notification data) needs support
// in the transport or the VMM that Ember does not have.
constexpr uint64_t PASSED_RING_FEATURES = feature::RING_EVENT_IDX | feature::RING_INDIRECT_DESC;

Result<UniqueFd> new_eventfd() {
    UniqueFd fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!fd.valid())
        return Error::from_errno("eventfd for a vhost-user ring");
    return fd;
}

}  // namespace

Result<std::unique_ptr<Fs>> Fs::create(GuestMemory& memory, const std::string& tag, VhostUserFrontend backend) {
    Config config{};
    if (tag.empty() || tag.size() > TAG_SIZE)
        return Error(ErrorKind::InvalidInput, fmt::format("virtio-fs tag '{}' must be 1 to {} bytes", tag, TAG_SIZE));
    std::memcpy(config.tag, tag.data(), tag.size());
    config.num_request_queues = 1;
    if (!(backend.features() & feature::VERSION_1))
        return Error(ErrorKind::InvalidInput, fmt::format("vhost-user backend {} does not offer VIRTIO_F_VERSION_1", backend.name()));
    if (backend.max_queues() < QUEUES)
        return Error(ErrorKind::InvalidInput,
                     fmt::format("vhost-user backend {} serves {} queue(s); virtio-fs needs {}", backend.name(),
                                 backend.max_queues(), QUEUES));
    std::array<UniqueFd, QUEUES> kick, call;
    for (size_t i = 0; i < QUEUES; ++i) {
        kick[i] = TRY(new_eventfd());
        call[i] = TRY(new_eventfd());
    }
    return std::unique_ptr<Fs>(new Fs(memory, std::move(backend), config, std::move(kick), std::move(call)));
}

Fs::Fs(GuestMemory& memory, VhostUserFrontend backend, Config config, std::array<UniqueFd, QUEUES> kick,
       std::array<UniqueFd, QUEUES> call)
    : m_memory(memory), m_backend(std::move(backend)), m_config(config), m_kick(std::move(kick)), m_call(std::move(call)) {}

uint64_t Fs::ring_features() const {
    return m_backend.features() & PASSED_RING_FEATURES;
}

Status Fs::start(uint64_t features, std::span<const Queue> ready) {
    if (m_backend_gone)
        return Error(ErrorKind::HostResource, fmt::format("vhost-user backend {} is gone", m_backend.name()));
    std::vector<VhostUserFrontend::Ring> rings;
    for (const Queue& q : ready)
        rings.push_back({q.index, q.layout, m_kick[q.index].get(), m_call[q.index].get()});
    TRY(m_backend.start(features, m_memory, rings));
    for (const Queue& q : ready)
        m_started.push_back(q.index);
    // A driver may have notified between enabling a queue and DRIVER_OK (§3.1.1 lets it add
    // buffers before): one kick per ring so the backend looks.
    for (const Queue& q : ready)
        kick(q.index);
    return {};
}

void Fs::kick(uint32_t index) {
    if (index >= QUEUES)
        return;
    const uint64_t one = 1;
    // Non-blocking: a counter at its limit means the backend has a kick pending anyway.
    [[maybe_unused]] const ssize_t n = ::write(m_kick[index].get(), &one, sizeof one);
}

void Fs::reset() {
    // The backend stops serving every started ring before the driver reuses their memory; one
    // that hung up serves none.
    if (m_backend_gone)
        m_started.clear();
    for (uint32_t index : m_started)
        if (auto stopped = m_backend.stop_ring(index); !stopped.ok() && allow_guest_message())
            spdlog::error("virtio-fs: {}", stopped.error().message());
    m_started.clear();
}

}  // namespace vmm::virtio
