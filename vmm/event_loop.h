// epoll loop of fd subscribers, run on the main thread: signals, console input, and (later)
// virtqueue ioeventfds. Callbacks run on the loop's thread.
#pragma once

#include <sys/epoll.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace vmm {

// Device events (queue notifications, TAP frames, host input for the guest) stop while the
// VM is paused; control events (signals, the lifecycle, pause requests) never do.
enum class EventGroup { Control, Device };

// What a device hands the event loop: the host fds it wants watched (queue notifications, a
// TAP's queues) and what to do when one is ready. Its wiring to the loop lives in one object.
class EventSubscriber {
public:
    struct Interest {
        int fd;
        uint32_t events;
        uint32_t token;  // handed back with the fd's events (a queue or pair index, say)
    };
    virtual ~EventSubscriber() = default;
    virtual std::vector<Interest> interests() const = 0;
    // On the loop thread; must not allocate (it runs per event).
    virtual void on_event(uint32_t token, uint32_t events) = 0;
};

class EventLoop {
public:
    using Callback = std::function<void(uint32_t events)>;

    static Result<std::unique_ptr<EventLoop>> create();

    // Watches every fd of the subscriber's interests; the loop keeps it alive.
    Status subscribe(std::shared_ptr<EventSubscriber> subscriber, EventGroup group = EventGroup::Device);

    Status add(int fd, uint32_t events, Callback callback, EventGroup group = EventGroup::Control);
    // The events the fd waits for; held back (and applied on resume) while its group is paused.
    Status modify(int fd, uint32_t events);
    Status remove(int fd);

    // Pausing a group takes its fds out of epoll's interest (their events stay pending in the
    // kernel); resuming restores each fd's events. Loop thread, or while the loop is not running.
    Status set_paused(EventGroup group, bool paused);

    // Dispatches events until stop() is called from a callback.
    Status run();
    void stop() { m_running = false; }

private:
    explicit EventLoop(UniqueFd epoll) : m_epoll(std::move(epoll)) {}

    struct Entry {
        // Shared so that dispatch holds a callback (which may remove itself) without copying
        // it: serving an event allocates nothing.
        std::shared_ptr<Callback> callback;
        uint32_t events;
        EventGroup group;
    };
    Status apply(int fd, uint32_t events);
    bool paused(EventGroup group) const { return group == EventGroup::Device && m_devices_paused; }

    UniqueFd m_epoll;
    std::unordered_map<int, Entry> m_entries;
    std::vector<std::shared_ptr<EventSubscriber>> m_subscribers;
    bool m_devices_paused = false;
    bool m_running = false;
};

}  // namespace vmm
