#include "vmm/event_loop.h"

#include <array>

#include <fmt/format.h>

namespace vmm {

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
    int fd = ::epoll_create1(EPOLL_CLOEXEC);
    if (fd < 0)
        return Error::from_errno("epoll_create1");
    return std::unique_ptr<EventLoop>(new EventLoop(UniqueFd(fd)));
}

Status EventLoop::add(int fd, uint32_t events, Callback callback, EventGroup group) {
    epoll_event ev{};
    ev.events = paused(group) ? 0 : events;
    ev.data.fd = fd;
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_ADD, fd, &ev) < 0)
        return Error::from_errno(fmt::format("epoll_ctl(ADD, fd {})", fd));
    m_entries[fd] = Entry{std::make_shared<Callback>(std::move(callback)), events, group};
    return {};
}

Status EventLoop::subscribe(std::shared_ptr<EventSubscriber> subscriber, EventGroup group) {
    EventSubscriber* target = subscriber.get();
    for (const auto& interest : subscriber->interests()) {
        const uint32_t token = interest.token;
        TRY(add(interest.fd, interest.events, [target, token](uint32_t events) { target->on_event(token, events); },
                group));
    }
    m_subscribers.push_back(std::move(subscriber));
    return {};
}

Status EventLoop::apply(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_MOD, fd, &ev) < 0)
        return Error::from_errno(fmt::format("epoll_ctl(MOD, fd {})", fd));
    return {};
}

Status EventLoop::modify(int fd, uint32_t events) {
    auto it = m_entries.find(fd);
    if (it == m_entries.end())
        return Error(ErrorKind::Internal, fmt::format("epoll_ctl(MOD, fd {}): not watched", fd));
    it->second.events = events;
    return paused(it->second.group) ? Status{} : apply(fd, events);
}

Status EventLoop::remove(int fd) {
    if (::epoll_ctl(m_epoll.get(), EPOLL_CTL_DEL, fd, nullptr) < 0)
        return Error::from_errno(fmt::format("epoll_ctl(DEL, fd {})", fd));
    m_entries.erase(fd);
    return {};
}

Status EventLoop::set_paused(EventGroup group, bool pause) {
    if (group != EventGroup::Device || pause == m_devices_paused)
        return {};
    m_devices_paused = pause;
    for (const auto& [fd, entry] : m_entries) {
        if (entry.group == group)
            TRY(apply(fd, pause ? 0 : entry.events));
    }
    return {};
}

Status EventLoop::run() {
    m_running = true;
    std::array<epoll_event, 16> events;
    while (m_running) {
        int n = ::epoll_wait(m_epoll.get(), events.data(), static_cast<int>(events.size()), -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return Error::from_errno("epoll_wait");
        for (int i = 0; i < n && m_running; ++i) {
            auto it = m_entries.find(events[i].data.fd);
            // A device event already fetched when its group was paused waits for resume (the
            // fd is still readable then, or edge-triggered and re-armed by apply()).
            if (it != m_entries.end() && !paused(it->second.group)) {
                const std::shared_ptr<Callback> callback = it->second.callback;  // it may remove itself
                (*callback)(events[i].events);
            }
        }
    }
    return {};
}

}  // namespace vmm
