// epoll loop of fd subscribers, run on the main thread: signals, console input, and (later)
// virtqueue ioeventfds. Callbacks run on the loop's thread.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

class EventLoop {
public:
    using Callback = std::function<void(uint32_t events)>;

    static Result<std::unique_ptr<EventLoop>> create();

    Status add(int fd, uint32_t events, Callback callback);
    Status modify(int fd, uint32_t events);
    Status remove(int fd);

    // Dispatches events until stop() is called from a callback.
    Status run();
    void stop() { m_running = false; }

private:
    explicit EventLoop(UniqueFd epoll) : m_epoll(std::move(epoll)) {}

    UniqueFd m_epoll;
    // Shared so that dispatch holds a callback (which may remove itself) without copying it:
    // serving an event allocates nothing.
    std::unordered_map<int, std::shared_ptr<Callback>> m_callbacks;
    bool m_running = false;
};

}  // namespace vmm
